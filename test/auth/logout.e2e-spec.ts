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

  describe('revoke as RFC 7009 defines it', () => {
    const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
    const revokeForm = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      t.http.post('/auth/revoke', new URLSearchParams(fields).toString(), { headers: { ...FORM, ...headers } });

    it('accepts the form of RFC 7009 §2.1 (token, token_type_hint): the session ends, whatever the hint', async () => {
      for (const hint of [undefined, 'refresh_token', 'access_token', 'id_token']) {
        const user = await newUser(t.http);
        const other = await newSession(t.http, user);
        const res = await revokeForm(hint === undefined ? { token: user.refreshToken } : { token: user.refreshToken, token_type_hint: hint });
        expect([hint, res.status]).toEqual([hint, 200]);
        expect(await refresh(user.refreshToken)).toBe(401);
        expect(await me(user.accessToken)).toBe(401);
        expect(await me(other.accessToken)).toBe(200);
      }
    });

    it('accepts `token` in JSON too, and still `refreshToken`', async () => {
      const user = await newUser(t.http);
      expect((await t.http.post('/auth/revoke', { token: user.refreshToken, token_type_hint: 'refresh_token' })).status).toBe(200);
      expect(await refresh(user.refreshToken)).toBe(401);
    });

    it('answers 200 to an unknown or malformed token, in a form or in JSON (RFC 7009 §2.2), and nothing ends', async () => {
      const user = await newUser(t.http);
      const [header, payload] = user.accessToken.split('.');
      const tokens = [
        'A'.repeat(43), // the shape of a refresh token, not one of ours
        'nonsense',
        'r'.repeat(3000), // longer than any token we issue
        `${header}.${payload}.${'A'.repeat(86)}`, // an access token with a forged signature
        'a.b.c',
        '😀 not a token',
      ];
      for (const token of tokens) {
        expect([token.slice(0, 20), (await revokeForm({ token })).status]).toEqual([token.slice(0, 20), 200]);
        expect([token.slice(0, 20), (await t.http.post('/auth/revoke', { token })).status]).toEqual([token.slice(0, 20), 200]);
        expect([token.slice(0, 20), (await t.http.post('/auth/revoke', { refreshToken: token })).status]).toEqual([token.slice(0, 20), 200]);
      }
      expect(await me(user.accessToken)).toBe(200);
      expect(await refresh(user.refreshToken)).toBe(200);
    });

    it('an access token: 200, and its session ends (as POST /auth/logout with it would); other sessions live', async () => {
      const user = await newUser(t.http);
      const other = await newSession(t.http, user);
      expect((await revokeForm({ token: user.accessToken, token_type_hint: 'access_token' })).status).toBe(200);
      expect(await me(user.accessToken)).toBe(401);
      expect(await refresh(user.refreshToken)).toBe(401);
      expect(await me(other.accessToken)).toBe(200);
      const session = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
      expect(session.revokedReason).toBe('REVOKED');
      // Sent again (its session has ended): 200, no effect.
      expect((await t.http.post('/auth/revoke', { token: user.accessToken })).status).toBe(200);
    });

    it('no token is a bad request (400): none, an empty one (RFC 6749 §3.1), one sent twice, or not a string', async () => {
      expect((await revokeForm({})).status).toBe(400);
      expect((await revokeForm({ token: '' })).status).toBe(400);
      expect((await revokeForm({ token_type_hint: 'refresh_token' })).status).toBe(400);
      const twice = await t.http.post('/auth/revoke', 'token=a&token=b', { headers: FORM });
      expect(twice.status).toBe(400);
      expect((await t.http.post('/auth/revoke', { token: 42 })).status).toBe(400);
      expect((await t.http.post('/auth/revoke', { token: 'a', refreshToken: 'b' })).status).toBe(400);
    });

    it('still refuses a form on the routes that read JSON only: 415', async () => {
      const user = await newUser(t.http);
      const res = await t.http.post('/auth/refresh', new URLSearchParams({ refreshToken: user.refreshToken }).toString(), { headers: FORM });
      expect(res.status).toBe(415);
    });
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

  it('revoke in cookie mode: the cookie is the token, with no body, a JSON body or a form; the cookie is cleared', async () => {
    for (const [body, type] of [
      [undefined, undefined],
      ['{}', 'application/json'],
      ['token_type_hint=refresh_token', 'application/x-www-form-urlencoded'],
    ]) {
      const user = await newUser(t.http);
      const login = await t.http.post('/auth/login', { email: user.email, password: user.password }, { headers: COOKIE });
      const token = cookieOf(login.headers)!.split(';')[0].split('=')[1];
      const headers: Record<string, string> = { ...COOKIE, cookie: `refresh_token=${token}`, ...(type ? { 'content-type': type } : {}) };
      const res = await t.http.post('/auth/revoke', body, { headers });
      expect([type, res.status]).toEqual([type, 200]);
      expect(cookieOf(res.headers)).toMatch(/refresh_token=;/);
      expect((await t.http.post('/auth/refresh', undefined, { headers: { ...COOKIE, cookie: `refresh_token=${token}` } })).status).toBe(401);
      expect((await t.http.get('/auth/me', { token: login.body.accessToken })).status).toBe(401);
    }
  });

  it('revoke with the cookie but without X-Auth-Mode: 403, form or JSON, and the session lives', async () => {
    const user = await newUser(t.http);
    const login = await t.http.post('/auth/login', { email: user.email, password: user.password }, { headers: COOKIE });
    const token = cookieOf(login.headers)!.split(';')[0].split('=')[1];
    for (const type of ['application/x-www-form-urlencoded', 'application/json']) {
      const res = await t.http.post('/auth/revoke', type === 'application/json' ? '{}' : '', {
        headers: { cookie: `refresh_token=${token}`, 'content-type': type },
      });
      expect([type, res.status]).toEqual([type, 403]);
    }
    expect((await t.http.get('/auth/me', { token: login.body.accessToken })).status).toBe(200);
  });

  it('register in cookie mode also keeps the token out of the body', async () => {
    const res = await t.http.post('/auth/register', { email: 'cookie-reg@example.com', password: 'password123' }, { headers: COOKIE });
    expect(res.status).toBe(201);
    expect(res.body.refreshToken).toBeUndefined();
    expect(cookieOf(res.headers)).toMatch(/HttpOnly/);
  });
});
