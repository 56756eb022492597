import { PASSKEY_SIGN_IN_FAILED } from '../../src/auth/passkeys/passkeys.service';
import { newUser } from '../support/factories';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { useApp } from '../support/test-app';
import { ORIGIN, claimsOf, passkeySignIn, registerPasskey, userWithPasskey } from './support';

/** Passkeys (API.md, "Second factors, step-up and passkeys"): registration, usernameless sign-in, and what they refuse. */
describe('passkeys', () => {
  const t = useApp();
  const activeSessions = (userId: string) => t.server.prisma.session.count({ where: { userId, revokedAt: null } });

  it('registers: options for a discoverable credential with user verification, the user’s passkeys excluded; listed, named, renamed', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const options = await t.http.post('/auth/passkeys/registration/options', undefined, { token: user.accessToken });
    expect(options.status).toBe(200);
    expect(options.body.options).toMatchObject({
      rp: { id: 'localhost' },
      user: { name: user.email },
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      attestation: 'none',
      excludeCredentials: [],
    });
    // ≥ 128 bits: 32 random bytes, base64url.
    expect(Buffer.from(options.body.options.challenge, 'base64url')).toHaveLength(32);
    const response = authenticator.create(options.body.options);
    const created = await t.http.post(
      '/auth/passkeys/registration',
      { challengeId: options.body.challengeId, response, name: 'Laptop' },
      { token: user.accessToken },
    );
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Laptop',
      createdAt: expect.any(String),
      lastUsedAt: null,
      backedUp: false,
      transports: ['internal', 'hybrid'],
    });
    const second = await t.http.post('/auth/passkeys/registration/options', undefined, { token: user.accessToken });
    // The session that registered is aal1, and the user has a factor now: a "recent" route wants aal2.
    expect(second.status).toBe(401);
    expect(second.headers.get('www-authenticate')).toContain('acr_values="aal2"');
    const { aal2 } = await (async () => {
      const { res } = await passkeySignIn(t.http, authenticator);
      return { aal2: res.body.accessToken as string };
    })();
    // The challenge was used: the same answer again is refused.
    expect((await t.http.post('/auth/passkeys/registration', { challengeId: options.body.challengeId, response }, { token: aal2 })).status).toBe(400);
    const again = await t.http.post('/auth/passkeys/registration/options', undefined, { token: aal2 });
    expect(again.body.options.excludeCredentials).toEqual([{ id: response.id, type: 'public-key', transports: ['internal', 'hybrid'] }]);

    const list = await t.http.get('/auth/passkeys', { token: aal2 });
    expect(list.body.items).toEqual([expect.objectContaining({ id: created.body.id, name: 'Laptop', lastUsedAt: expect.any(String) })]);
    expect((await t.http.get('/auth/mfa', { token: aal2 })).body.passkeys).toEqual(list.body.items);
    const renamed = await t.http.request('PATCH', `/auth/passkeys/${created.body.id}`, { body: { name: 'Work laptop' }, token: aal2 });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Work laptop');
    const stranger = await newUser(t.http);
    expect((await t.http.request('PATCH', `/auth/passkeys/${created.body.id}`, { body: { name: 'Mine' }, token: stranger.accessToken })).status).toBe(404);
    expect((await t.http.request('PATCH', `/auth/passkeys/${created.body.id}`, { body: {}, token: aal2 })).body.message).toEqual(['name is required']);

    const audit = await t.server.prisma.auditEvent.findFirstOrThrow({ where: { type: 'passkey.added', userId: user.id } });
    expect(audit.data).toEqual({ passkeyId: created.body.id, name: 'Laptop', backupEligible: false });
    // Stored: the public key and the credential id, nothing the client could sign with.
    const row = await t.server.prisma.passkey.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.credentialId).toBe(response.id);
  });

  it('signs in without an email: aal2 with amr hwk, user, mfa, no second step; body and cookie transports; audited; a device', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, user.accessToken, authenticator);
    const { res, options } = await passkeySignIn(t.http, authenticator);
    expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'required', allowCredentials: [] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', refreshToken: expect.any(String), user: { id: user.id, email: user.email } });
    expect(claimsOf(res.body.accessToken)).toMatchObject({ sub: user.id, amr: ['hwk', 'user', 'mfa'], acr: 'aal2' });
    const audit = await t.server.prisma.auditEvent.findFirstOrThrow({ where: { type: 'login.succeeded', sessionId: res.body.sessionId } });
    expect(audit.data).toEqual({ amr: ['hwk', 'user', 'mfa'] });
    const sessions = await t.http.get('/auth/sessions', { token: res.body.accessToken });
    expect(sessions.body).toContainEqual(expect.objectContaining({ id: res.body.sessionId, current: true }));

    const cookie = await passkeySignIn(t.http, authenticator, {}, { 'x-auth-mode': 'cookie' });
    expect(cookie.res.status).toBe(200);
    expect(cookie.res.body.refreshToken).toBeUndefined();
    expect(cookie.res.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    // Revocation: a passkey session ends like any other.
    expect((await t.http.post('/auth/logout', undefined, { token: res.body.accessToken })).status).toBe(204);
    expect((await t.http.get('/auth/me', { token: res.body.accessToken })).status).toBe(401);
  });

  it('a synced passkey (backup eligible, counter always 0) signs in again and again, as swk', async () => {
    const user = await newUser(t.http);
    const synced = new SoftAuthenticator({ origin: ORIGIN, synced: true });
    const passkey = await registerPasskey(t.http, user.accessToken, synced);
    for (let i = 0; i < 2; i++) {
      const { res } = await passkeySignIn(t.http, synced);
      expect(res.status).toBe(200);
      expect(claimsOf(res.body.accessToken)).toMatchObject({ amr: ['swk', 'user', 'mfa'], acr: 'aal2' });
    }
    const row = await t.server.prisma.passkey.findUniqueOrThrow({ where: { id: passkey.id } });
    expect(row).toMatchObject({ counter: 0n, backupEligible: true, backedUp: true });
  });

  it.each([
    ['from another origin (phishing)', { origin: 'http://evil.localhost:3000' }],
    ['for another RP ID', { rpId: 'example.com' }],
    ['with a bad signature', { badSignature: true }],
    ['without user verification', { userVerified: false }],
  ])('refuses an assertion %s with the one 401, and spends its challenge', async (_, tamper) => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, user.accessToken, authenticator);
    const { res, body } = await passkeySignIn(t.http, authenticator, tamper);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe(PASSKEY_SIGN_IN_FAILED);
    expect(await activeSessions(user.id)).toBe(1);
    // The challenge is gone even though the answer failed: a right answer to it is refused too.
    const right = authenticator.get({ challenge: Buffer.from(JSON.stringify({})).toString('base64url'), rpId: 'localhost' });
    expect((await t.http.post('/auth/passkeys/authentication', { challengeId: body.challengeId, response: right })).status).toBe(401);
    expect(await t.server.prisma.auditEvent.count({ where: { type: 'login.failed', userId: user.id } })).toBeGreaterThanOrEqual(1);
  });

  it('refuses a replayed answer (single-use challenge), and a counter that goes backwards', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const passkey = await registerPasskey(t.http, user.accessToken, authenticator);
    const { res, body } = await passkeySignIn(t.http, authenticator, { counter: 5 });
    expect(res.status).toBe(200);
    const replay = await t.http.post('/auth/passkeys/authentication', body);
    expect(replay.status).toBe(401);
    expect(replay.body.message).toBe(PASSKEY_SIGN_IN_FAILED);

    // A cloned authenticator: its counter lags behind the one the server saw.
    expect((await passkeySignIn(t.http, authenticator, { counter: 5 })).res.status).toBe(401);
    expect((await passkeySignIn(t.http, authenticator, { counter: 3 })).res.status).toBe(401);
    expect((await passkeySignIn(t.http, authenticator, { counter: 0 })).res.status).toBe(401);
    expect((await t.server.prisma.passkey.findUniqueOrThrow({ where: { id: passkey.id } })).counter).toBe(5n);
    expect((await passkeySignIn(t.http, authenticator, { counter: 6 })).res.status).toBe(200);
  });

  it('refuses an unknown credential and a malformed body alike (401, 400), naming nothing', async () => {
    const stranger = new SoftAuthenticator({ origin: ORIGIN });
    stranger.create({ challenge: 'x', rp: { id: 'localhost' }, user: { id: 'eA' } });
    const { res } = await passkeySignIn(t.http, stranger);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe(PASSKEY_SIGN_IN_FAILED);
    expect((await t.http.post('/auth/passkeys/authentication', {})).body.message).toEqual(['challengeId is required', 'response is required']);
  });

  it('removing a passkey (recent, aal2) ends every other session, is audited; 404 for another user’s', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { passkey, aal2 } = await userWithPasskey(t.http, user, authenticator);
    // With a passkey, a password alone no longer opens a session: it asks for the passkey.
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).body).toMatchObject({ mfaRequired: true, methods: ['passkey'] });
    // The other session: the one that registered the passkey.
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    // A password-only (aal1) token may not remove it.
    expect((await t.http.request('DELETE', `/auth/passkeys/${passkey.id}`, { token: user.accessToken })).status).toBe(401);
    const stranger = await newUser(t.http);
    expect((await t.http.request('DELETE', `/auth/passkeys/${passkey.id}`, { token: stranger.accessToken })).status).toBe(404);

    const removed = await t.http.request('DELETE', `/auth/passkeys/${passkey.id}`, { token: aal2 });
    expect(removed.status).toBe(204);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: aal2 })).status).toBe(200);
    expect((await t.http.get('/auth/passkeys', { token: aal2 })).body.items).toEqual([]);
    const audit = await t.server.prisma.auditEvent.findFirstOrThrow({ where: { type: 'passkey.removed', userId: user.id } });
    expect(audit.data).toEqual({ passkeyId: passkey.id, name: 'Passkey', otherSessionsEnded: 1 });
    // Gone: it signs in no more.
    expect((await passkeySignIn(t.http, authenticator)).res.status).toBe(401);
  });

  it('logs no challenge, credential or assertion', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, user.accessToken, authenticator);
    const ok = await passkeySignIn(t.http, authenticator);
    const bad = await passkeySignIn(t.http, authenticator, { badSignature: true });
    const logs = t.server.logs();
    for (const sent of [ok.body, bad.body]) {
      expect(logs).not.toContain(sent.challengeId);
      expect(logs).not.toContain(sent.response.response.signature);
      expect(logs).not.toContain(sent.response.response.clientDataJSON);
      expect(logs).not.toContain(sent.response.id);
    }
    expect(logs).not.toContain(ok.options.challenge);
  });
});

describe('passkey sign-ins spend the login budget (RATE_LIMIT_LOGIN), as passwords and second steps do', () => {
  const t = useApp({ RATE_LIMIT_LOGIN: '3' });

  it('counts each answer per IP and per account, across the password route too; options spend none of it', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, user.accessToken, authenticator);
    for (let i = 0; i < 3; i++) expect((await passkeySignIn(t.http, authenticator, { badSignature: true })).res.status).toBe(401);
    const throttled = await passkeySignIn(t.http, authenticator);
    expect(throttled.res.status).toBe(429);
    expect(Number(throttled.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).status).toBe(429);
    // Asking for options is not an attempt: still answered.
    expect((await t.http.post('/auth/passkeys/authentication/options', {})).status).toBe(200);
  });
});
