import { ADMIN_ENV, newAdmin, newUser, type TestUser } from '../support/factories';
import { useApp, type AppUnderTest } from '../support/test-app';
import { claimsOf, enrolled, SPEC_CODE, SpecStepUpModule } from './support';

const STALE = 'Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=300';
const WEAK =
  'Bearer error="insufficient_user_authentication", error_description="Authentication with a second factor is required", max_age=300, acr_values="aal2"';

/** The session's last authentication set an hour back, then a refresh: an access token whose auth_time is an hour old. */
async function staleToken(t: AppUnderTest, user: TestUser): Promise<TestUser> {
  await t.server.prisma.session.update({ where: { id: user.sessionId }, data: { authTime: new Date(Date.now() - 3_600_000) } });
  const res = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
  expect(res.status).toBe(200);
  return { ...user, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

const reauthenticate = (t: AppUnderTest, user: TestUser, body: Record<string, unknown>) =>
  t.http.post('/auth/reauthenticate', body, { token: user.accessToken });

describe('step-up: recent authentication (RFC 9470), POST /auth/reauthenticate', () => {
  const t = useApp({}, { extraImports: [SpecStepUpModule] });
  const recent = (user: Pick<TestUser, 'accessToken'>) => t.http.post('/spec/recent', {}, { token: user.accessToken });

  it('puts the token’s auth_time, amr and acr on the caller (request.user)', async () => {
    const user = await newUser(t.http);
    const res = await t.http.get('/spec/caller', { token: user.accessToken });
    const claims = claimsOf(user.accessToken);
    expect(res.body).toEqual({ id: user.id, sessionId: user.sessionId, role: 'USER', tokenVersion: 0, authTime: claims.auth_time, amr: ['pwd'], acr: 'aal1' });
  });

  it('lets a fresh token through a recent route, and answers a stale one 401 with the challenge and max_age', async () => {
    const user = await newUser(t.http);
    const fresh = await recent(user);
    expect(fresh.status).toBe(200);
    expect(fresh.body).toEqual({ authTime: claimsOf(user.accessToken).auth_time, amr: ['pwd'], acr: 'aal1' });

    const stale = await staleToken(t, user);
    const res = await recent(stale);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(STALE);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'A more recent authentication is required' });
    // Only the marked route: the same token is good everywhere else.
    expect((await t.http.get('/auth/me', { token: stale.accessToken })).status).toBe(200);
  });

  it('re-authenticates with the password: the same session (sid), auth_time now, kept through a refresh, audited', async () => {
    const user = await staleToken(t, await newUser(t.http));
    const staleAuthTime = claimsOf(user.accessToken).auth_time;
    const before = Math.floor(Date.now() / 1000);
    const res = await reauthenticate(t, user, { password: user.password });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
    const claims = claimsOf(res.body.accessToken);
    expect(claims).toMatchObject({ sub: user.id, sid: user.sessionId, amr: ['pwd'], acr: 'aal1' });
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    expect(claims.auth_time).toBeGreaterThan(staleAuthTime);
    expect((await recent({ accessToken: res.body.accessToken })).status).toBe(200);

    // On the session row: the next refresh carries the new auth_time (a refresh is not an authentication).
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.sessionId).toBe(user.sessionId);
    expect(claimsOf(refreshed.body.accessToken).auth_time).toBe(claims.auth_time);

    const events = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: 'user.reauthenticated' } });
    expect(events).toEqual([expect.objectContaining({ actorId: user.id, sessionId: user.sessionId, data: { method: 'password', amr: ['pwd'], acr: 'aal1' } })]);
  });

  it('refuses a wrong password (401), no password or an unknown method (400), and leaves the session as it was', async () => {
    const user = await staleToken(t, await newUser(t.http));
    const wrong = await reauthenticate(t, user, { password: `${user.password}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('Password is incorrect');
    const none = await reauthenticate(t, user, {});
    expect(none.status).toBe(400);
    expect(none.body.message).toEqual(['password is required']);
    for (const method of ['sms', 'password2', 'otp']) {
      const unknown = await reauthenticate(t, user, { method, code: '123456' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toEqual(['method must be one of: passkey, password, recovery_code, spec_otp, totp']);
    }
    // spec_otp and totp are methods of this server, but this user has no such factor: a wrong proof.
    expect((await reauthenticate(t, user, { method: 'spec_otp', code: SPEC_CODE })).status).toBe(401);
    expect((await reauthenticate(t, user, { method: 'totp', code: '123456' })).status).toBe(401);
    const row = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(Math.floor(row.authTime.getTime() / 1000)).toBe(claimsOf(user.accessToken).auth_time);
    expect(await t.server.prisma.auditEvent.count({ where: { userId: user.id, type: 'user.reauthenticated' } })).toBe(0);
  });

  it('wants the second factor of a user who has one: aal1 is refused with acr_values, a password is not enough, the factor gives aal2', async () => {
    const user = await newUser(t.http);
    enrolled.add(user.id);
    // Fresh, but aal1: the level is what is missing.
    const weak = await recent(user);
    expect(weak.status).toBe(401);
    expect(weak.headers.get('www-authenticate')).toBe(WEAK);
    expect(weak.body.message).toBe('Authentication with a second factor is required');

    const password = await reauthenticate(t, user, { password: user.password });
    expect(password.status).toBe(401);
    expect(password.headers.get('www-authenticate')).toBe(WEAK);

    const wrongCode = await reauthenticate(t, user, { method: 'spec_otp', code: '000000' });
    expect(wrongCode.status).toBe(401);
    expect(wrongCode.body.message).toBe('Invalid or already used code');

    const res = await reauthenticate(t, user, { method: 'spec_otp', code: SPEC_CODE });
    expect(res.status).toBe(200);
    expect(claimsOf(res.body.accessToken)).toMatchObject({ sid: user.sessionId, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' });
    expect((await recent({ accessToken: res.body.accessToken })).status).toBe(200);
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(claimsOf(refreshed.body.accessToken)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' });

    // aal2 but stale: only max_age, the level is there.
    const stale = await staleToken(t, { ...user, refreshToken: refreshed.body.refreshToken });
    const res2 = await recent(stale);
    expect(res2.status).toBe(401);
    expect(res2.headers.get('www-authenticate')).toBe(STALE);
  });

  it('makes a password change recent only for a user with a second factor (it keeps currentPassword for everyone)', async () => {
    const plain = await staleToken(t, await newUser(t.http));
    const changed = await t.http.post('/auth/password', { currentPassword: plain.password, newPassword: 'a-new-passphrase-1' }, { token: plain.accessToken });
    expect(changed.status).toBe(204);

    const factor = await newUser(t.http);
    enrolled.add(factor.id);
    const body = { currentPassword: factor.password, newPassword: 'another-passphrase-2' };
    const weak = await t.http.post('/auth/password', body, { token: factor.accessToken });
    expect(weak.status).toBe(401);
    expect(weak.headers.get('www-authenticate')).toBe(WEAK);
    const stepped = await reauthenticate(t, factor, { method: 'spec_otp', code: SPEC_CODE });
    const staleAal2 = await staleToken(t, { ...factor, accessToken: stepped.body.accessToken });
    const stale = await t.http.post('/auth/password', body, { token: staleAal2.accessToken });
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toBe(STALE);
    const again = await reauthenticate(t, staleAal2, { method: 'spec_otp', code: SPEC_CODE });
    expect((await t.http.post('/auth/password', body, { token: again.body.accessToken })).status).toBe(204);
  });

  it('never renews an ended session: after logout the token is refused, and a re-authentication racing a logout leaves it ended', async () => {
    const user = await newUser(t.http);
    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    const after = await reauthenticate(t, user, { password: user.password });
    expect(after.status).toBe(401);
    expect(after.body.message).toBe('Session has ended');

    for (let i = 0; i < 5; i++) {
      const racer = await newUser(t.http);
      const [reauth, logout] = await Promise.all([
        reauthenticate(t, racer, { password: racer.password }),
        t.http.post('/auth/logout', undefined, { token: racer.accessToken }),
      ]);
      expect(logout.status).toBe(204);
      expect([200, 401]).toContain(reauth.status);
      const row = await t.server.prisma.session.findUniqueOrThrow({ where: { id: racer.sessionId } });
      expect(row.revokedAt).not.toBeNull();
      expect((await t.http.post('/auth/refresh', { refreshToken: racer.refreshToken })).status).toBe(401);
      if (reauth.status === 200) expect((await t.http.get('/auth/me', { token: reauth.body.accessToken })).status).toBe(401);
    }
  });
});

describe('MFA_REQUIRED_ROLES: a role’s routes want aal2', () => {
  const t = useApp({ ...ADMIN_ENV, MFA_REQUIRED_ROLES: 'ADMIN' }, { extraImports: [SpecStepUpModule] });

  it('answers 403 on the admin routes to an admin signed in at aal1, who can still use /auth/me and step up; aal2 passes', async () => {
    const admin = await newAdmin(t.http);
    const refused = await t.http.get('/admin/users', { token: admin.accessToken });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'A second factor is required for this role' });
    expect((await t.http.get('/auth/me', { token: admin.accessToken })).status).toBe(200);
    expect((await t.http.get('/auth/sessions', { token: admin.accessToken })).status).toBe(200);

    enrolled.add(admin.id);
    const stepped = await reauthenticate(t, admin, { method: 'spec_otp', code: SPEC_CODE });
    expect(stepped.status).toBe(200);
    expect((await t.http.get('/admin/users', { token: stepped.body.accessToken })).status).toBe(200);
  });

  it('leaves the other roles alone: a user’s own routes at aal1, and a user still gets 403 Insufficient role on admin routes', async () => {
    const user = await newUser(t.http);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    const res = await t.http.get('/admin/users', { token: user.accessToken });
    expect(res.status).toBe(403);
    expect(res.body.message).toBe('Insufficient role');
  });
});
