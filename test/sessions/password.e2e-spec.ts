import { newSession, newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('POST /auth/password: changes the password, ends every other session', () => {
  const t = useApp();

  const me = (token: string) => t.http.get('/auth/me', { token }).then((r) => r.status);
  const refresh = (refreshToken: string) => t.http.post('/auth/refresh', { refreshToken });
  const login = (email: string, password: string) => t.http.post('/auth/login', { email, password }).then((r) => r.status);
  const change = (token: string, body: unknown) => t.http.post('/auth/password', body, { token });

  it('204: the caller stays signed in; the other sessions’ access and refresh tokens fail at once', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    const bystander = await newUser(t.http);
    const newPassword = 'a brand new passphrase';

    const res = await change(user.accessToken, { currentPassword: user.password, newPassword });
    expect(res.status).toBe(204);
    expect(await me(user.accessToken)).toBe(200);
    expect(await me(other.accessToken)).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    const next = await refresh(user.refreshToken);
    expect(next.status).toBe(200);
    expect(await me(next.body.accessToken)).toBe(200);
    expect(await me(bystander.accessToken)).toBe(200);

    expect(await login(user.email, user.password)).toBe(401);
    expect(await login(user.email, newPassword)).toBe(200);
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.refreshTokenVersion).toBe(0);
    const ended = await t.server.prisma.session.findUniqueOrThrow({ where: { id: other.sessionId } });
    expect(ended.revokedReason).toBe('PASSWORD_CHANGED');

    const events = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: 'password.changed' } });
    expect(events).toMatchObject([{ actorId: user.id, sessionId: user.sessionId, ip: '127.0.0.1', data: { otherSessionsEnded: 1 } }]);
    const text = JSON.stringify(await t.server.prisma.auditEvent.findMany({ where: { userId: user.id }, select: { data: true, userAgent: true } }));
    for (const secret of [user.password, newPassword, row.passwordHash]) expect(text).not.toContain(secret);
  });

  it('401 for a wrong current password, and nothing changes', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    const before = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });

    const res = await change(user.accessToken, { currentPassword: 'not the password', newPassword: 'whatever passphrase' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, message: 'Current password is incorrect', error: 'Unauthorized' });
    expect(await me(user.accessToken)).toBe(200);
    expect(await me(other.accessToken)).toBe(200);
    expect(await login(user.email, user.password)).toBe(200);
    const after = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(await t.server.prisma.auditEvent.count({ where: { userId: user.id, type: 'password.changed' } })).toBe(0);
  });

  it('400 listing every problem of an invalid body; the password is unchanged', async () => {
    const user = await newUser(t.http);
    const res = await change(user.accessToken, { newPassword: 'short', extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.message).toEqual(
      expect.arrayContaining(['currentPassword is required', 'newPassword must be 8 to 256 characters', 'property extra should not exist']),
    );
    expect((await change(user.accessToken, undefined)).status).toBe(400);
    expect(await login(user.email, user.password)).toBe(200);
  });

  it('401 without a valid access token, before the body is even read', async () => {
    const user = await newUser(t.http);
    expect((await change('', { currentPassword: user.password, newPassword: 'another passphrase' })).status).toBe(401);
    expect((await change(user.refreshToken, { currentPassword: user.password, newPassword: 'another passphrase' })).status).toBe(401);
    expect(await login(user.email, user.password)).toBe(200);
  });

  it('of two concurrent changes that both know the old password, only one wins', async () => {
    const user = await newUser(t.http);
    const results = await Promise.all(
      ['first new passphrase', 'second new passphrase'].map((newPassword) =>
        change(user.accessToken, { currentPassword: user.password, newPassword }).then((r) => [r.status, newPassword] as const),
      ),
    );
    expect(results.map(([status]) => status).sort()).toEqual([204, 401]);
    const winner = results.find(([status]) => status === 204)![1];
    const loser = results.find(([status]) => status === 401)![1];
    expect(await login(user.email, winner)).toBe(200);
    expect(await login(user.email, loser)).toBe(401);
  });
});
