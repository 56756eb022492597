import { generate } from 'otplib';
import { MFA_FAILED } from '../../src/auth/sign-in/sign-in.service';
import { newSession, newUser } from '../support/factories';
import { useApp } from '../support/test-app';
import { awayFromStepEdge, claimsOf, currentStep, enrolledUser, firstStep, steppedUp, totpAt } from './support';

/** TOTP (API.md, "Second factors, step-up and passkeys"): enrollment and the two-step sign-in. */
describe('TOTP', () => {
  const t = useApp();
  const sessionsOf = (userId: string) => t.server.prisma.session.count({ where: { userId, revokedAt: null } });

  it('enrolls: a pending secret (160 bits, base32, an otpauth URI), replaced by a new call, confirmed by a code; recovery codes shown once', async () => {
    const user = await newUser(t.http);
    expect((await t.http.get('/auth/mfa', { token: user.accessToken })).body).toEqual({
      totp: { enabled: false, confirmedAt: null },
      recoveryCodes: { remaining: 0 },
      passkeys: [],
    });
    const first = await t.http.post('/auth/mfa/totp', undefined, { token: user.accessToken });
    expect(first.status).toBe(201);
    expect(first.body.secret).toMatch(/^[A-Z2-7]{32}$/); // 32 base32 characters: 160 bits
    const uri = new URL(first.body.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe(first.body.secret);
    expect(decodeURIComponent(uri.pathname)).toContain(user.email);
    // Pending is not on: a sign-in still takes the password alone.
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).body.accessToken).toEqual(expect.any(String));

    const second = await t.http.post('/auth/mfa/totp', undefined, { token: user.accessToken });
    expect(second.status).toBe(201);
    expect(second.body.secret).not.toBe(first.body.secret);
    const step = await awayFromStepEdge();
    // The replaced secret's code no longer confirms; nor does a wrong code or none.
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(first.body.secret, step) }, { token: user.accessToken })).status).toBe(400);
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: 'abcdef' }, { token: user.accessToken })).status).toBe(400);
    expect((await t.http.post('/auth/mfa/totp/confirm', {}, { token: user.accessToken })).body.message).toEqual(['code is required']);

    // otplib's code (the server's own library) and ours agree.
    expect(await generate({ secret: second.body.secret })).toBe(totpAt(second.body.secret, currentStep()));
    const confirmed = await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(second.body.secret, step) }, { token: user.accessToken });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.body.recoveryCodes).size).toBe(10);
    for (const code of confirmed.body.recoveryCodes) expect(code.replace(/-/g, '')).toMatch(/^[a-z2-7]{20}$/); // 100 bits each

    const status = await t.http.get('/auth/mfa', { token: user.accessToken });
    expect(status.body).toEqual({ totp: { enabled: true, confirmedAt: expect.any(String) }, recoveryCodes: { remaining: 10 }, passkeys: [] });
    expect(JSON.stringify(status.body)).not.toContain(second.body.secret);
    // Already on: 409, nothing replaced (asked at aal2: the enrolling session is aal1, which a "recent" route refuses now).
    const aal2 = await steppedUp(t.http, { accessToken: user.accessToken, secret: second.body.secret }, step + 1);
    expect((await t.http.post('/auth/mfa/totp', undefined, { token: aal2 })).status).toBe(409);
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(second.body.secret, step + 1) }, { token: aal2 })).status).toBe(400);

    // At rest: the secret sealed, the codes hashed.
    const row = await t.server.prisma.totpFactor.findUniqueOrThrow({ where: { userId: user.id } });
    expect(Buffer.from(row.secretSealed).toString('latin1')).not.toContain(second.body.secret);
    const hashes = (await t.server.prisma.recoveryCode.findMany({ where: { userId: user.id } })).map((r) => r.codeHash);
    expect(hashes).toHaveLength(10);
    for (const code of confirmed.body.recoveryCodes) expect(hashes.join()).not.toContain(code.replace(/-/g, ''));
  });

  it('enabling ends every other session at once (access token 401, refresh refused); the enrolling one goes on', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    expect((await t.http.get('/auth/me', { token: other.accessToken })).status).toBe(200);
    const started = await t.http.post('/auth/mfa/totp', undefined, { token: user.accessToken });
    const step = await awayFromStepEdge();
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(started.body.secret, step) }, { token: user.accessToken })).status).toBe(200);
    expect((await t.http.get('/auth/me', { token: other.accessToken })).status).toBe(401);
    expect((await t.http.post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect(await sessionsOf(user.id)).toBe(1);
  });

  it('signs in in two steps: the password opens nothing (no session, token, cookie or device); the code opens the session at aal2', async () => {
    const user = await enrolledUser(t.http);
    const before = await sessionsOf(user.id);
    const step = currentStep();
    const first = await t.http.post('/auth/login', { email: user.email, password: user.password }, { headers: { 'x-auth-mode': 'cookie' } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      mfaRequired: true,
      mfaToken: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/),
      methods: expect.arrayContaining(['totp', 'recovery_code']),
      expiresIn: 300,
    });
    expect(first.body.methods).toHaveLength(2);
    expect(first.headers.getSetCookie()).toEqual([]);
    expect(await sessionsOf(user.id)).toBe(before);
    expect((await t.http.get('/auth/sessions', { token: user.accessToken })).body).toHaveLength(before);
    // The token itself is stored only as its hash.
    expect(JSON.stringify(await t.server.prisma.pendingSignIn.findMany({ where: { userId: user.id } }))).not.toContain(first.body.mfaToken);

    const second = await t.http.post(
      '/auth/login/mfa',
      { mfaToken: first.body.mfaToken, method: 'totp', code: totpAt(user.secret, step) },
      { headers: { 'x-auth-mode': 'cookie' } },
    );
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).toBeUndefined(); // cookie mode
    const cookies = second.headers.getSetCookie().map((c) => c.split('=')[0]);
    expect(cookies).toEqual(expect.arrayContaining(['refresh_token', 'auth_device']));
    expect(claimsOf(second.body.accessToken)).toMatchObject({ sub: user.id, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' });
    expect(await sessionsOf(user.id)).toBe(before + 1);
    // The mfaToken is used up.
    const again = await t.http.post('/auth/login/mfa', { mfaToken: first.body.mfaToken, method: 'totp', code: totpAt(user.secret, step + 1) });
    expect(again.status).toBe(401);
    expect(again.body.message).toBe(MFA_FAILED);
  });

  it('accepts each code once: a replay on another pending sign-in is refused with the one message', async () => {
    const user = await enrolledUser(t.http);
    const code = totpAt(user.secret, currentStep());
    expect((await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'totp', code })).status).toBe(200);
    const replay = await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'totp', code });
    expect([replay.status, replay.body.message]).toEqual([401, MFA_FAILED]);
  });

  it('accepts ±1 step of drift and refuses ±2', async () => {
    const user = await enrolledUser(t.http);
    const step = currentStep();
    const attempt = async (offset: number) =>
      (await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'totp', code: totpAt(user.secret, step + offset) })).status;
    expect(await attempt(-2)).toBe(401);
    expect(await attempt(2)).toBe(401);
    expect(await attempt(1)).toBe(200);
    // On a factor no code was accepted for yet (so no replay rule applies): −2 and +2 refused, −1 accepted.
    const behind = await newUser(t.http);
    const started = await t.http.post('/auth/mfa/totp', undefined, { token: behind.accessToken });
    const s = await awayFromStepEdge();
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(started.body.secret, s - 2) }, { token: behind.accessToken })).status).toBe(400);
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(started.body.secret, s + 2) }, { token: behind.accessToken })).status).toBe(400);
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(started.body.secret, s - 1) }, { token: behind.accessToken })).status).toBe(200);
  });

  it('burns the mfaToken after 5 wrong codes: the right code is refused on it then', async () => {
    const user = await enrolledUser(t.http);
    const mfaToken = await firstStep(t.http, user);
    const right = totpAt(user.secret, currentStep());
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const res = await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: wrong });
      expect([res.status, res.body.message]).toEqual([401, MFA_FAILED]);
    }
    expect((await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: right })).status).toBe(401);
    expect(await t.server.prisma.auditEvent.count({ where: { userId: user.id, type: 'login.failed' } })).toBe(5);
    // Four wrong codes leave it usable.
    const other = await firstStep(t.http, user);
    for (let i = 0; i < 4; i++) expect((await t.http.post('/auth/login/mfa', { mfaToken: other, method: 'totp', code: wrong })).status).toBe(401);
    expect((await t.http.post('/auth/login/mfa', { mfaToken: other, method: 'totp', code: right })).status).toBe(200);
  });

  it('refuses an expired mfaToken with the one message', async () => {
    const user = await enrolledUser(t.http);
    const mfaToken = await firstStep(t.http, user);
    // MFA_TOKEN_TTL passed (set back in the database rather than waited for).
    await t.server.prisma.pendingSignIn.updateMany({ where: { userId: user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: totpAt(user.secret, currentStep()) });
    expect([res.status, res.body.message]).toEqual([401, MFA_FAILED]);
  });

  it('answers 400 for a missing code or an unknown method, 401 for an unknown mfaToken', async () => {
    const user = await enrolledUser(t.http);
    const mfaToken = await firstStep(t.http, user);
    expect((await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp' })).body).toMatchObject({ statusCode: 400, message: ['code is required'] });
    expect((await t.http.post('/auth/login/mfa', { mfaToken, method: 'sms', code: '123456' })).body).toMatchObject({
      statusCode: 400,
      message: ['method must be one of: totp, recovery_code, passkey'],
    });
    expect((await t.http.post('/auth/login/mfa', { method: 'totp', code: '123456' })).status).toBe(400);
    expect((await t.http.post('/auth/login/mfa', { mfaToken: 'x'.repeat(43), method: 'totp', code: '123456' })).body.message).toBe(MFA_FAILED);
  });

  it('lets only one of two concurrent uses of one code through', async () => {
    const user = await enrolledUser(t.http);
    const [a, b] = [await firstStep(t.http, user), await firstStep(t.http, user)];
    const code = totpAt(user.secret, currentStep());
    const results = await Promise.all([a, b].map((mfaToken) => t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('wants the session that enabled TOTP (aal1) stepped up: 401 with acr_values="aal2", then the same request at aal2 is 204', async () => {
    const user = await enrolledUser(t.http);
    expect(claimsOf(user.accessToken)).toMatchObject({ acr: 'aal1' });
    const refused = await t.http.delete('/auth/mfa/totp', { token: user.accessToken });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('acr_values="aal2"');
    expect((await t.http.get('/auth/mfa', { token: user.accessToken })).body.totp).toMatchObject({ enabled: true });

    const aal2 = await steppedUp(t.http, user, currentStep());
    expect(claimsOf(aal2)).toMatchObject({ sid: user.sessionId, acr: 'aal2' });
    expect((await t.http.delete('/auth/mfa/totp', { token: aal2 })).status).toBe(204);
  });

  it('disables: 204, every other session ends, sign-in is one step again; 404 when not on', async () => {
    const user = await enrolledUser(t.http);
    const step = currentStep();
    const other = await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'totp', code: totpAt(user.secret, step) });
    const aal2 = await steppedUp(t.http, user, step + 1);
    expect((await t.http.delete('/auth/mfa/totp', { token: aal2 })).status).toBe(204);
    expect((await t.http.get('/auth/me', { token: other.body.accessToken })).status).toBe(401);
    expect((await t.http.post('/auth/refresh', { refreshToken: other.body.refreshToken })).status).toBe(401);
    expect((await t.http.get('/auth/mfa', { token: user.accessToken })).body).toMatchObject({ totp: { enabled: false }, recoveryCodes: { remaining: 0 } });
    expect((await t.http.delete('/auth/mfa/totp', { token: user.accessToken })).status).toBe(404);
    expect((await t.http.post('/auth/mfa/recovery-codes', undefined, { token: user.accessToken })).status).toBe(409);
    const login = await t.http.post('/auth/login', { email: user.email, password: user.password });
    expect(claimsOf(login.body.accessToken)).toMatchObject({ amr: ['pwd'], acr: 'aal1' });
  });
});
