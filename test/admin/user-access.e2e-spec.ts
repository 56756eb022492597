import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('admin changes to access: force-logout, PATCH role/disabled, DELETE /admin/sessions/:id', () => {
  const t = useApp(ADMIN_ENV);
  let admin: TestUser;
  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  const me = (token: string) => t.http.get('/auth/me', { token }).then((r) => r.status);
  const refresh = (refreshToken: string) => t.http.post('/auth/refresh', { refreshToken }).then((r) => r.status);
  const patch = (id: string, body: unknown, token = admin.accessToken) => t.http.patch(`/admin/users/${id}`, body, { token });
  const audit = (userId: string, type: string) => t.server.prisma.auditEvent.findMany({ where: { userId, type } });

  it('force-logout: 204; every access and refresh token of the target fails next; the admin and others go on', async () => {
    const target = await newUser(t.http);
    const second = await newSession(t.http, target);
    const bystander = await newUser(t.http);

    const res = await t.http.post(`/admin/users/${target.id}/force-logout`, undefined, { token: admin.accessToken });
    expect(res.status).toBe(204);
    for (const session of [target, second]) {
      expect(await me(session.accessToken)).toBe(401);
      expect(await refresh(session.refreshToken)).toBe(401);
    }
    expect(await me(admin.accessToken)).toBe(200);
    expect(await me(bystander.accessToken)).toBe(200);
    expect(await refresh(bystander.refreshToken)).toBe(200);
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: target.id }, include: { sessions: true } });
    expect(row.refreshTokenVersion).toBe(1);
    expect(row.sessions.map((s) => s.revokedReason)).toEqual(['FORCE_LOGOUT', 'FORCE_LOGOUT']);
    expect(await audit(target.id, 'user.force_logged_out')).toMatchObject([{ actorId: admin.id, ip: '127.0.0.1', data: { sessionsEnded: 2 } }]);
    // The user can sign in again.
    expect(await me((await newSession(t.http, target)).accessToken)).toBe(200);
  });

  it('404 for an unknown or malformed user id, on force-logout and PATCH', async () => {
    for (const id of [crypto.randomUUID(), 'nope']) {
      expect((await t.http.post(`/admin/users/${id}/force-logout`, undefined, { token: admin.accessToken })).status).toBe(404);
      const res = await patch(id, { disabled: true });
      expect([res.status, res.body.message]).toEqual([404, 'User not found']);
    }
  });

  it('disabling: 200 User; every session ends; login gets the very 401 of a wrong password; enabling lets them back', async () => {
    const target = await newUser(t.http);
    const second = await newSession(t.http, target);

    const res = await patch(target.id, { disabled: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: target.id,
      email: target.email,
      emailVerified: false,
      name: 'Test User',
      role: 'USER',
      disabled: true,
      createdAt: expect.any(String),
    });
    for (const session of [target, second]) {
      expect(await me(session.accessToken)).toBe(401);
      expect(await refresh(session.refreshToken)).toBe(401);
    }
    const disabledLogin = await t.http.post('/auth/login', { email: target.email, password: target.password });
    const wrongPassword = await t.http.post('/auth/login', { email: admin.email, password: 'not the password' });
    expect(disabledLogin.status).toBe(401);
    expect(disabledLogin.text).toBe(wrongPassword.text);
    expect(await audit(target.id, 'user.disabled')).toMatchObject([{ actorId: admin.id, data: { sessionsEnded: 2 } }]);

    const enabled = await patch(target.id, { disabled: false });
    expect(enabled.body.disabled).toBe(false);
    expect(await me((await newSession(t.http, target)).accessToken)).toBe(200);
    expect(await audit(target.id, 'user.enabled')).toMatchObject([{ actorId: admin.id }]);
  });

  it('a promoted user gets in with their old token at once; demoted, the same token is refused (403) on the next request', async () => {
    const user = await newUser(t.http);
    expect((await t.http.get('/admin/users', { token: user.accessToken })).status).toBe(403);

    const promoted = await patch(user.id, { role: 'ADMIN' });
    expect([promoted.status, promoted.body.role]).toEqual([200, 'ADMIN']);
    expect((await t.http.get('/admin/users', { token: user.accessToken })).status).toBe(200);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).body.role).toBe('ADMIN');

    // The new admin demotes the first one, whose token is refused from the next request.
    const other = await newUser(t.http);
    await patch(other.id, { role: 'ADMIN' });
    expect((await patch(other.id, { role: 'USER' }, user.accessToken)).status).toBe(200);
    expect((await t.http.get('/admin/users', { token: other.accessToken })).status).toBe(403);
    expect((await patch(user.id, { role: 'USER' })).status).toBe(200);
    expect((await t.http.get('/admin/audit', { token: user.accessToken })).status).toBe(403);
    expect(await me(user.accessToken)).toBe(200); // a role change is not a logout
    // A refresh issues a token carrying the new role.
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(JSON.parse(Buffer.from(refreshed.body.accessToken.split('.')[1], 'base64url').toString()).role).toBe('USER');

    expect((await audit(user.id, 'user.role_changed')).map((e) => [e.actorId, e.data])).toEqual([
      [admin.id, { from: 'USER', to: 'ADMIN' }],
      [admin.id, { from: 'ADMIN', to: 'USER' }],
    ]);
    expect(await audit(other.id, 'user.role_changed')).toMatchObject([{ actorId: admin.id }, { actorId: user.id }]);
  });

  it('records nothing for a PATCH that changes nothing', async () => {
    const user = await newUser(t.http);
    expect((await patch(user.id, { role: 'USER', disabled: false })).status).toBe(200);
    expect(await t.server.prisma.auditEvent.count({ where: { userId: user.id, actorId: admin.id } })).toBe(0);
    expect(await me(user.accessToken)).toBe(200);
  });

  it('400 for an empty, null, ill-typed or unknown-field body, and for an admin demoting or disabling themselves', async () => {
    const user = await newUser(t.http);
    const bodies = [{}, undefined, { role: 'ROOT' }, { role: null }, { disabled: 'true' }, { disabled: null }, { email: 'x@y.z' }];
    for (const body of bodies) {
      const res = await patch(user.id, body);
      expect([body, res.status]).toEqual([body, 400]);
    }
    for (const body of [{ role: 'USER' }, { disabled: true }]) {
      const res = await patch(admin.id, body);
      expect([res.status, res.body.message]).toEqual([400, ['Admins cannot demote or disable themselves']]);
    }
    expect((await patch(admin.id, { role: 'ADMIN', disabled: false })).status).toBe(200);
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: admin.id } });
    expect([row.role, row.disabled]).toEqual(['ADMIN', false]);
    expect(await me(admin.accessToken)).toBe(200);
  });

  it('DELETE /admin/sessions/:id: 204, that session’s tokens fail; 404 when not an active session', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    const res = await t.http.delete(`/admin/sessions/${user.sessionId}`, { token: admin.accessToken });
    expect(res.status).toBe(204);
    expect(await me(user.accessToken)).toBe(401);
    expect(await refresh(user.refreshToken)).toBe(401);
    expect(await me(other.accessToken)).toBe(200);
    const row = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(row.revokedReason).toBe('ADMIN_REVOKED');
    expect(await audit(user.id, 'session.revoked')).toMatchObject([{ actorId: admin.id, sessionId: user.sessionId, data: { reason: 'ADMIN_REVOKED' } }]);

    for (const id of [user.sessionId, crypto.randomUUID(), 'nope']) {
      const again = await t.http.delete(`/admin/sessions/${id}`, { token: admin.accessToken });
      expect([again.status, again.body.message]).toEqual([404, 'Session not found']);
    }
  });
});
