import { newSession, newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('GET and DELETE /auth/sessions: a user sees and ends their own sessions', () => {
  const t = useApp();

  const me = (token: string) => t.http.get('/auth/me', { token }).then((r) => r.status);
  const refresh = (refreshToken: string) => t.http.post('/auth/refresh', { refreshToken }).then((r) => r.status);
  const end = (id: string, token: string) => t.http.delete(`/auth/sessions/${id}`, { token });
  const past = () => new Date(Date.now() - 1000);

  it('lists the active sessions only, newest first, the current one marked, without secrets', async () => {
    const user = await newUser(t.http);
    const phone = await newSession(t.http, user, { 'user-agent': 'Phone/1.0' });
    const loggedOut = await newSession(t.http, user);
    await t.http.post('/auth/logout', undefined, { token: loggedOut.accessToken });
    const expired = await newSession(t.http, user);
    await t.server.prisma.session.update({ where: { id: expired.sessionId }, data: { idleExpiresAt: past() } });
    await newUser(t.http); // someone else's sessions are not listed

    const res = await t.http.get('/auth/sessions', { token: phone.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.map((s: { id: string }) => s.id)).toEqual([phone.sessionId, user.sessionId]);
    const row = await t.server.prisma.session.findUniqueOrThrow({ where: { id: phone.sessionId } });
    expect(res.body[0]).toEqual({
      id: phone.sessionId,
      createdAt: row.createdAt.toISOString(),
      lastUsedAt: row.lastUsedAt.toISOString(),
      expiresAt: row.idleExpiresAt.toISOString(),
      userAgent: 'Phone/1.0',
      ip: '127.0.0.1',
      current: true,
    });
    expect(res.body[1].current).toBe(false);
    expect(res.text).not.toContain(row.refreshTokenHash);
    expect(res.text).not.toMatch(/refreshToken|revoked/i);
  });

  it('gives as expiresAt the earlier of the idle and the absolute expiry', async () => {
    const user = await newUser(t.http);
    const absolute = new Date(Date.now() + 60_000);
    await t.server.prisma.session.update({ where: { id: user.sessionId }, data: { absoluteExpiresAt: absolute } });
    const res = await t.http.get('/auth/sessions', { token: user.accessToken });
    expect(res.body[0].expiresAt).toBe(absolute.toISOString());
  });

  it('DELETE of another of my sessions: 204; its access and refresh tokens fail at once, mine go on', async () => {
    const user = await newUser(t.http);
    const laptop = await newSession(t.http, user);
    const res = await end(laptop.sessionId, user.accessToken);
    expect(res.status).toBe(204);
    expect(await me(laptop.accessToken)).toBe(401);
    expect(await refresh(laptop.refreshToken)).toBe(401);
    expect(await me(user.accessToken)).toBe(200);
    expect(await refresh(user.refreshToken)).toBe(200);

    const row = await t.server.prisma.session.findUniqueOrThrow({ where: { id: laptop.sessionId } });
    expect(row.revokedReason).toBe('SESSION_DELETED');
    const events = await t.server.prisma.auditEvent.findMany({ where: { type: 'session.revoked', sessionId: laptop.sessionId } });
    expect(events).toMatchObject([{ userId: user.id, actorId: user.id, ip: '127.0.0.1', data: { reason: 'SESSION_DELETED' } }]);
  });

  it('DELETE of my current session is a logout', async () => {
    const user = await newUser(t.http);
    expect((await end(user.sessionId, user.accessToken)).status).toBe(204);
    expect(await me(user.accessToken)).toBe(401);
    expect(await refresh(user.refreshToken)).toBe(401);
  });

  it('answers 404 with one body for someone else’s session, an unknown, ended or expired one and a non-uuid; nothing ends', async () => {
    const user = await newUser(t.http);
    const victim = await newUser(t.http);
    const ended = await newSession(t.http, user);
    await end(ended.sessionId, user.accessToken);
    const expired = await newSession(t.http, user);
    await t.server.prisma.session.update({ where: { id: expired.sessionId }, data: { absoluteExpiresAt: past() } });

    const notFound = { statusCode: 404, message: 'Session not found', error: 'Not Found' };
    const ids = [victim.sessionId, crypto.randomUUID(), ended.sessionId, expired.sessionId, 'not-a-uuid', encodeURIComponent("' OR 1=1 --")];
    for (const id of ids) {
      const res = await end(id, user.accessToken);
      expect([id, res.status, res.body]).toEqual([id, 404, notFound]);
    }
    expect(await me(victim.accessToken)).toBe(200);
    expect(await refresh(victim.refreshToken)).toBe(200);
    const row = await t.server.prisma.session.findUniqueOrThrow({ where: { id: expired.sessionId } });
    expect(row.revokedAt).toBeNull();
  });

  it('refuses callers without a valid access token: 401', async () => {
    const user = await newUser(t.http);
    expect((await t.http.get('/auth/sessions')).status).toBe(401);
    expect((await t.http.delete(`/auth/sessions/${user.sessionId}`)).status).toBe(401);
    expect((await t.http.get('/auth/sessions', { token: user.refreshToken })).status).toBe(401);
    expect(await me(user.accessToken)).toBe(200);
  });
});
