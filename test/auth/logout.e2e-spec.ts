import { newSession, newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('logout, logout-all and revoke end sessions at once', () => {
  const t = useApp();

  const me = (token: string) => t.http.get('/auth/me', { token }).then((r) => r.status);
  const refresh = (refreshToken: string) => t.http.post('/auth/refresh', { refreshToken }).then((r) => r.status);

  it('logout: 204; that session’s access and refresh tokens fail on the next request; other sessions live', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    const bystander = await newUser(t.http);

    const res = await t.http.post('/auth/logout', undefined, { token: user.accessToken });
    expect(res.status).toBe(204);
    expect(await me(user.accessToken)).toBe(401);
    expect(await refresh(user.refreshToken)).toBe(401);
    expect(await me(other.accessToken)).toBe(200);
    expect(await me(bystander.accessToken)).toBe(200);
    expect(await t.http.post('/auth/logout', undefined, { token: user.accessToken }).then((r) => r.status)).toBe(401);
    const session = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(session.revokedReason).toBe('LOGOUT');
  });

  it('logout-all: 204; version + 1; every session of the user ends, access tokens included; other users unaffected', async () => {
    const user = await newUser(t.http);
    const second = await newSession(t.http, user);
    const bystander = await newUser(t.http);

    expect((await t.http.post('/auth/logout-all', undefined, { token: second.accessToken })).status).toBe(204);
    for (const token of [user.accessToken, second.accessToken]) expect(await me(token)).toBe(401);
    for (const token of [user.refreshToken, second.refreshToken]) expect(await refresh(token)).toBe(401);
    expect(await me(bystander.accessToken)).toBe(200);
    expect(await refresh(bystander.refreshToken)).toBe(200);

    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.refreshTokenVersion).toBe(1);
    expect(await t.server.prisma.session.count({ where: { userId: user.id, revokedAt: null } })).toBe(0);

    // A new login works and carries the new version.
    const again = await newSession(t.http, user);
    expect(await me(again.accessToken)).toBe(200);
    expect(JSON.parse(Buffer.from(again.accessToken.split('.')[1], 'base64url').toString()).ver).toBe(1);
  });

  it('revoke (RFC 7009): 200 for any token; a real one ends its session and its access tokens', async () => {
    const user = await newUser(t.http);
    const bystander = await newUser(t.http);
    expect((await t.http.post('/auth/revoke', { refreshToken: 'A'.repeat(43) })).status).toBe(200);
    expect((await t.http.post('/auth/revoke', { refreshToken: 'nonsense' })).status).toBe(200);

    const res = await t.http.post('/auth/revoke', { refreshToken: user.refreshToken });
    expect(res.status).toBe(200);
    expect(await me(user.accessToken)).toBe(401);
    expect(await refresh(user.refreshToken)).toBe(401);
    expect(await me(bystander.accessToken)).toBe(200);
    expect((await t.http.post('/auth/revoke', { refreshToken: user.refreshToken })).status).toBe(200);
  });

  it('revoke without a token: 400', async () => {
    const res = await t.http.post('/auth/revoke', {});
    expect(res.status).toBe(400);
    expect(res.body.message).toEqual(expect.arrayContaining([expect.stringMatching(/refreshToken/)]));
  });

  it('writes the audit events with the change they describe, without secrets', async () => {
    const user = await newUser(t.http);
    await t.http.post('/auth/login', { email: user.email, password: 'wrong password' });
    const session = await newSession(t.http, user);
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: session.refreshToken });
    await t.http.post('/auth/logout', undefined, { token: refreshed.body.accessToken });
    await t.http.post('/auth/logout-all', undefined, { token: user.accessToken });

    const events = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id }, orderBy: { id: 'asc' } });
    expect(events.map((e) => e.type)).toEqual([
      'user.registered',
      'login.failed',
      'login.succeeded',
      'token.refreshed',
      'session.revoked',
      'user.logged_out_everywhere',
    ]);
    const text = JSON.stringify(events, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    for (const secret of [user.password, 'wrong password', user.refreshToken, session.refreshToken, refreshed.body.refreshToken, user.accessToken]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('cookie transport (X-Auth-Mode: cookie)', () => {
  const t = useApp({ COOKIE_SECURE: 'true' });
  const COOKIE = { 'x-auth-mode': 'cookie' };

  const cookieOf = (headers: Headers) => headers.getSetCookie().find((c) => c.startsWith('refresh_token='));

  it('login puts the refresh token only in an HttpOnly; Secure; SameSite=Strict cookie; refresh and logout work with it', async () => {
    const user = await newUser(t.http);
    const login = await t.http.post('/auth/login', { email: user.email, password: user.password }, { headers: COOKIE });
    expect(login.status).toBe(200);
    expect(login.body.refreshToken).toBeUndefined();
    expect(login.body.accessToken).toEqual(expect.any(String));
    const setCookie = cookieOf(login.headers)!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/auth/);
    const token = setCookie.split(';')[0].split('=')[1];
    expect(login.text).not.toContain(token);

    const refreshed = await t.http.post('/auth/refresh', undefined, { headers: { ...COOKIE, cookie: `refresh_token=${token}` } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).toBeUndefined();
    const next = cookieOf(refreshed.headers)!.split(';')[0].split('=')[1];
    expect(next).not.toBe(token);
    expect(refreshed.text).not.toContain(next);

    const logout = await t.http.post('/auth/logout', undefined, { token: refreshed.body.accessToken, headers: { ...COOKIE, cookie: `refresh_token=${next}` } });
    expect(logout.status).toBe(204);
    expect(cookieOf(logout.headers)).toMatch(/refresh_token=;.*(Expires=Thu, 01 Jan 1970|Max-Age=0)/i);
    expect((await t.http.post('/auth/refresh', undefined, { headers: { ...COOKIE, cookie: `refresh_token=${next}` } })).status).toBe(401);
  });

  it('refuses a cookie-authenticated request without the header: 403, and the token stays valid', async () => {
    const user = await newUser(t.http);
    const login = await t.http.post('/auth/login', { email: user.email, password: user.password }, { headers: COOKIE });
    const token = cookieOf(login.headers)!.split(';')[0].split('=')[1];
    const res = await t.http.post('/auth/refresh', undefined, { headers: { cookie: `refresh_token=${token}` } });
    expect(res.status).toBe(403);
    expect((await t.http.post('/auth/refresh', undefined, { headers: { ...COOKIE, cookie: `refresh_token=${token}` } })).status).toBe(200);
  });

  it('register in cookie mode also keeps the token out of the body', async () => {
    const res = await t.http.post('/auth/register', { email: 'cookie-reg@example.com', password: 'password123' }, { headers: COOKIE });
    expect(res.status).toBe(201);
    expect(res.body.refreshToken).toBeUndefined();
    expect(cookieOf(res.headers)).toMatch(/HttpOnly/);
  });
});
