import { randomBytes } from 'node:crypto';
import { SigningKeys } from '../../src/auth/keys/signing-keys.service';
import { hashRefreshToken } from '../../src/auth/tokens/refresh-token';
import { UsersService } from '../../src/users/users.service';
import { newUser } from '../support/factories';
import { TEST_SECRET, useApp } from '../support/test-app';
import { expectError } from './support';

/**
 * What the logs must never hold, after a full flow of every kind of request, refusals
 * and an unexpected server error included: passwords, access or refresh tokens (nor the
 * SHA-256 of a refresh token, which is what the database looks tokens up by), argon2
 * hashes, Authorization or Cookie values, the server secret, the private signing key.
 */
describe('logs hold no secrets', () => {
  const t = useApp();
  const secrets = new Set<string>();
  const keep = (...values: Array<string | undefined | null>) => values.forEach((v) => v && secrets.add(v));
  const cookieOf = (headers: Headers) =>
    headers
      .getSetCookie()
      .find((c) => c.startsWith('refresh_token='))
      ?.split(';')[0];

  it('after a full flow: register, logins, refreshes in both transports, logouts, revoke, password change, refusals', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const email = `logs-${randomBytes(4).toString('hex')}@example.com`;
    keep(password, TEST_SECRET);
    // The signing key's private part, in every encoding it has (JWK `d`, PKCS #8).
    const signing = t.server.app.get(SigningKeys).signingKey().privateKey;
    keep(signing.export({ format: 'jwk' }).d, signing.export({ type: 'pkcs8', format: 'der' }).toString('base64'));

    const register = await t.http.post('/auth/register', { email, password, name: 'Log Reader' });
    expect(register.status).toBe(201);
    keep(register.body.accessToken, register.body.refreshToken);

    const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
    keep(wrongPassword);
    expect((await t.http.post('/auth/login', { email, password: wrongPassword })).status).toBe(401);

    const login = await t.http.post('/auth/login', { email, password });
    expect(login.status).toBe(200);
    keep(login.body.accessToken, login.body.refreshToken);

    const refreshed = await t.http.post('/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    keep(refreshed.body.accessToken, refreshed.body.refreshToken);
    // A replay inside the grace window, and an unknown token.
    keep((await t.http.post('/auth/refresh', { refreshToken: login.body.refreshToken })).body.refreshToken);
    expect((await t.http.post('/auth/refresh', { refreshToken: randomBytes(32).toString('base64url') })).status).toBe(401);

    const cookieLogin = await t.http.post('/auth/login', { email, password }, { headers: { 'x-auth-mode': 'cookie' } });
    expect(cookieLogin.status).toBe(200);
    const cookie = cookieOf(cookieLogin.headers)!;
    keep(cookieLogin.body.accessToken, cookie, cookie.split('=')[1]);
    const cookieRefresh = await t.http.post('/auth/refresh', undefined, { headers: { 'x-auth-mode': 'cookie', cookie } });
    expect(cookieRefresh.status).toBe(200);
    const nextCookie = cookieOf(cookieRefresh.headers)!;
    keep(cookieRefresh.body.accessToken, nextCookie, nextCookie.split('=')[1]);
    expect((await t.http.post('/auth/refresh', undefined, { headers: { cookie: nextCookie } })).status).toBe(403);

    expect((await t.http.get('/auth/sessions', { token: refreshed.body.accessToken })).status).toBe(200);
    expect((await t.http.delete(`/auth/sessions/${cookieLogin.body.sessionId}`, { token: refreshed.body.accessToken })).status).toBe(204);
    expect((await t.http.post('/auth/logout', undefined, { token: refreshed.body.accessToken })).status).toBe(204);
    expect((await t.http.post('/auth/revoke', { refreshToken: register.body.refreshToken })).status).toBe(200);

    const again = await t.http.post('/auth/login', { email, password });
    keep(again.body.accessToken, again.body.refreshToken);
    const newPassword = `new-${randomBytes(12).toString('hex')}`;
    keep(newPassword);
    expect((await t.http.post('/auth/password', { currentPassword: wrongPassword, newPassword }, { token: again.body.accessToken })).status).toBe(401);
    expect((await t.http.post('/auth/password', { currentPassword: password, newPassword }, { token: again.body.accessToken })).status).toBe(204);
    expect((await t.http.post('/auth/logout-all', undefined, { token: again.body.accessToken })).status).toBe(204);

    // Refusals that carry secrets in the request.
    expectError(await t.http.get('/auth/me', { token: again.body.accessToken }), 401);
    expectError(await t.http.get(`/auth/me?access_token=${again.body.accessToken}`), 401);
    expectError(await t.http.post('/auth/register', { email: 'not-an-email', password: newPassword, role: 'ADMIN' }), 400);
    expectError(
      await t.http.request('POST', '/auth/login', { body: `{"email":"${email}","password":"${newPassword}"`, headers: { 'content-type': 'application/json' } }),
      400,
    );
    expectError(await t.http.post('/auth/login', { email, password: newPassword + 'x'.repeat(17_000) }), 413);
    expectError(
      await t.http.request('POST', '/auth/login', {
        body: `email=${email}&password=${newPassword}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
    );

    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { email } });
    keep(row.passwordHash);
    for (const token of [...secrets].filter((s) => /^[A-Za-z0-9_-]{43}$/.test(s))) keep(hashRefreshToken(token));
    for (const token of [...secrets].filter((s) => s.split('.').length === 3)) keep(`Bearer ${token}`, token.split('.')[2]);

    const logs = t.server.logs();
    // The logs are there, with the requests in them: the absence below means something.
    expect(logs).toContain('/auth/login');
    expect(logs).toContain('/auth/refresh');
    expect(logs.split('\n').filter(Boolean).length).toBeGreaterThan(20);
    for (const secret of secrets) expect([secret.slice(0, 12), logs.includes(secret)]).toEqual([secret.slice(0, 12), false]);
    expect(logs).not.toContain('$argon2');
    expect(logs).not.toMatch(/"authorization"|"cookie"|set-cookie/i);
    expect(logs).not.toContain('access_token=');
  });

  it('answers an unexpected server error with a generic 500, and logs it without its message', async () => {
    const user = await newUser(t.http);
    const marker = `leak-${randomBytes(12).toString('hex')}`;
    const users = t.server.app.get(UsersService);
    let thrown: Error | undefined;
    // A bug that makes Prisma throw: its message echoes the query's arguments, the marker included.
    const spy = jest.spyOn(users, 'me').mockImplementationOnce(async (id: string) => {
      try {
        await t.server.prisma.user.update({ where: { id }, data: { passwordHash: marker, notAColumn: true } as never });
      } catch (error) {
        thrown = error as Error;
        throw error;
      }
      return null;
    });
    try {
      const res = await t.http.get('/auth/me', { token: user.accessToken });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' });
      expectError(res, 500);
    } finally {
      spy.mockRestore();
    }
    // The test is meaningful only if the error message did hold the secret.
    expect(thrown?.message).toContain(marker);
    const logs = t.server.logs();
    expect(logs).toContain('Unhandled error');
    expect(logs).toContain('PrismaClientValidationError');
    expect(logs).not.toContain(marker);
    expect(logs).not.toContain(user.accessToken);
    // The row was never touched, and the app goes on.
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
  });
});
