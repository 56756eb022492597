import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { useApp } from '../support/test-app';
import { useReceiver, type Received } from '../support/webhook-receiver';
import { waitFor } from '../support/wait';

/**
 * OpenID Connect Back-Channel Logout 1.0 (API.md, "Webhooks and back-channel logout"): a
 * client with a `backchannelLogoutUri` on loopback receives a logout token whenever
 * sessions end, and verifies it as a relying party would: with `jose` against our JWKS.
 */

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('back-channel logout', () => {
  const env: Record<string, string> = { ...ADMIN_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', OUTBOX_RETRY_SCHEDULE: '0,100ms,100ms', RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const receiver = useReceiver();
  const t = useApp(env);
  let admin: TestUser;
  let client: { id: string; clientId: string };
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    admin = await newAdmin(t.http);
    const created = await t.http.post('/admin/clients', { name: 'notes', backchannelLogoutUri: receiver.url('/logout') }, { token: admin.accessToken });
    client = created.body;
    // A client without a back-channel URI receives nothing.
    await t.http.post('/admin/clients', { name: 'no back-channel' }, { token: admin.accessToken });
    jwks = createRemoteJWKSet(new URL(`${t.http.baseUrl}/.well-known/jwks.json`));
  });

  /** The logout token of a request, verified by jose (signature against the JWKS, iss, aud, typ), and its header. */
  async function logoutTokenOf(request: Received): Promise<{ claims: JWTPayload; typ?: string }> {
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(request.body);
    expect([...form.keys()]).toEqual(['logout_token']);
    const token = form.get('logout_token')!;
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: t.server.config.auth.issuer,
      audience: client.clientId,
      typ: 'logout+jwt',
      requiredClaims: ['iat', 'exp', 'jti', 'sub', 'events'],
    });
    expect(decodeProtectedHeader(token).kid).toBeDefined();
    return { claims: payload, typ: protectedHeader.typ };
  }

  const received = () => receiver.on('/logout').length;

  it('a logout sends a token with sub and sid that jose verifies against the JWKS, with every claim the specification requires and no nonce', async () => {
    const before = received();
    const user = await newUser(t.http);
    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    const requests = await receiver.waitFor('/logout', before + 1);
    const { claims, typ } = await logoutTokenOf(requests[before]);
    expect(typ).toBe('logout+jwt');
    expect(claims).toEqual({
      iss: t.server.config.auth.issuer,
      aud: client.clientId,
      iat: expect.any(Number),
      exp: claims.iat! + 120,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sub: user.id,
      sid: user.sessionId,
      events: { [EVENT]: {} },
    });
    expect(claims).not.toHaveProperty('nonce');
    // The logs hold no logout token (nor its signature).
    expect(t.server.logs()).not.toContain(new URLSearchParams(requests[before].body).get('logout_token')!.split('.')[2]);
    // An access token is not a logout token, nor the other way round: each is typed.
    await expect(jwtVerify(user.accessToken, jwks, { typ: 'logout+jwt' })).rejects.toThrow();
  });

  it('logout-all, force-logout, disabling and a password reset send sub without sid (all sessions ended)', async () => {
    const user = await newUser(t.http);
    await newSession(t.http, user);
    let before = received();
    expect((await t.http.post('/auth/logout-all', undefined, { token: user.accessToken })).status).toBe(204);
    let [request] = (await receiver.waitFor('/logout', before + 1)).slice(before);
    let { claims } = await logoutTokenOf(request);
    expect(claims.sub).toBe(user.id);
    expect(claims).not.toHaveProperty('sid');

    const resetPassword = async () => {
      await t.http.post('/auth/password/forgot', { email: user.email });
      const { token } = linkIn(await smtp.nth(user.email, 'reset-password'), 'reset-password');
      return t.http.post('/auth/password/reset', { token, newPassword: 'a reset passphrase' });
    };
    for (const change of [
      () => t.http.post(`/admin/users/${user.id}/force-logout`, undefined, { token: admin.accessToken }),
      resetPassword,
      () => t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken }),
    ]) {
      before = received();
      expect((await change()).status).toBeLessThan(300);
      [request] = (await receiver.waitFor('/logout', before + 1)).slice(before);
      ({ claims } = await logoutTokenOf(request));
      expect([claims.sub, claims.sid]).toEqual([user.id, undefined]);
    }
    const outbox = await t.http.get('/admin/outbox?kind=backchannel', { token: admin.accessToken });
    expect(outbox.body.items[0]).toMatchObject({ kind: 'backchannel', target: receiver.url('/logout'), eventType: 'user.tokens_revoked', status: 'delivered' });
    expect(outbox.text).not.toContain('logout_token');
  });

  it('a password change sends one token per other session ended (each with its sid), none for the session kept', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    const before = received();
    expect(
      (await t.http.post('/auth/password', { currentPassword: user.password, newPassword: 'changed passphrase' }, { token: user.accessToken })).status,
    ).toBe(204);
    const [request] = (await receiver.waitFor('/logout', before + 1)).slice(before);
    const { claims } = await logoutTokenOf(request);
    expect([claims.sub, claims.sid]).toEqual([user.id, other.sessionId]);
    // The caller's session goes on, and no second token comes for it.
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect(received()).toBe(before + 1);
  });

  it('a receiver that fails once gets the same jti again, in a token signed afresh', async () => {
    receiver.script('/logout', 503);
    const before = received();
    const user = await newUser(t.http);
    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    const [first, second] = (await receiver.waitFor('/logout', before + 2)).slice(before);
    const a = await logoutTokenOf(first);
    const b = await logoutTokenOf(second);
    expect(b.claims.jti).toBe(a.claims.jti);
    expect(new URLSearchParams(second.body).get('logout_token')).not.toBe(new URLSearchParams(first.body).get('logout_token'));
    await waitFor(
      'delivered',
      async () => (await t.http.get('/admin/outbox?kind=backchannel', { token: admin.accessToken })).body.items[0]?.status === 'delivered',
    );
  });

  it('a deleted client gets nothing more', async () => {
    const other = await t.http.post('/admin/clients', { name: 'soon gone', backchannelLogoutUri: receiver.url('/gone-client') }, { token: admin.accessToken });
    expect((await t.http.delete(`/admin/clients/${other.body.id}`, { token: admin.accessToken })).status).toBe(204);
    const before = received();
    const user = await newUser(t.http);
    await t.http.post('/auth/logout', undefined, { token: user.accessToken });
    await receiver.waitFor('/logout', before + 1);
    expect(receiver.on('/gone-client')).toEqual([]);
  });
});
