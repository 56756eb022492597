import { randomUUID } from 'node:crypto';
import { newSession, newUser, type TestUser } from '../support/factories';
import { useApp } from '../support/test-app';
import { expectError, rawRequest } from './support';

/**
 * What a client is told when it gets a request wrong: one message per field with a
 * problem ("email is required", not four messages about a value nobody sent), the body's
 * shape and media type said in words, and a wrong method on a route that exists answered
 * 405 with the methods it accepts. Every answer in NestJS's error shape.
 */
describe('error messages a person understands', () => {
  const t = useApp();
  let user: TestUser;
  let admin: { accessToken: string };

  const post = (path: string, body: string, contentType = 'application/json', token?: string) =>
    t.http.request('POST', path, { body, token, headers: { 'content-type': contentType } });

  beforeAll(async () => {
    user = await newUser(t.http);
    const a = await newUser(t.http);
    await t.server.prisma.user.update({ where: { id: a.id }, data: { role: 'ADMIN' } });
    admin = await newSession(t.http, a);
  });

  describe('missing and malformed fields: one message per field', () => {
    it('login {} says exactly that email and password are required (from the guard, before passport)', async () => {
      const res = await t.http.post('/auth/login', {});
      expectError(res, 400);
      expect(res.body.message).toEqual(['email is required', 'password is required']);
    });

    it('login without any body says the same', async () => {
      const res = await t.http.request('POST', '/auth/login');
      expectError(res, 400);
      expect(res.body.message).toEqual(['email is required', 'password is required']);
    });

    it('login with null fields: required too', async () => {
      const res = await t.http.post('/auth/login', { email: null, password: null });
      expectError(res, 400);
      expect(res.body.message).toEqual(['email is required', 'password is required']);
    });

    it.each([
      ['a number email', { email: 42, password: 'x' }, ['email must be a string']],
      ['an address that is not one', { email: 'not-an-email', password: 'x' }, ['email must be an email address']],
      ['a 300-character email', { email: `${'a'.repeat(290)}@example.com`, password: 'x' }, ['email must be at most 254 characters']],
      ['an empty password', { email: 'a@example.com', password: '' }, ['password must not be empty']],
      ['an array password', { email: 'a@example.com', password: ['x'] }, ['password must be a string']],
      ['a 300-character password', { email: 'a@example.com', password: 'p'.repeat(300) }, ['password must be at most 256 characters']],
      ['only a password', { password: 'x' }, ['email is required']],
      ['an unknown field', { email: 'a@example.com', password: 'x', role: 'ADMIN' }, ['property role should not exist']],
    ])('login with %s: one message', async (_, body, messages) => {
      const res = await t.http.post('/auth/login', body);
      expectError(res, 400);
      expect(res.body.message).toEqual(messages);
    });

    it('register {} says that email and password are required, and nothing about name (optional)', async () => {
      const res = await t.http.post('/auth/register', {});
      expectError(res, 400);
      expect(res.body.message).toEqual(['email is required', 'password is required']);
    });

    it('register lists one message per bad field, the first problem of each', async () => {
      const res = await t.http.post('/auth/register', { email: 'ali\u200bce@example.com', password: 'short', name: 'x'.repeat(101) });
      expectError(res, 400);
      expect(res.body.message).toEqual([
        'email must not contain invisible, control or formatting characters',
        'password must be 8 to 256 characters',
        'name must be 1 to 100 characters',
      ]);
      const types = await t.http.post('/auth/register', { email: ['a@example.com'], password: 12345678, name: 7 });
      expect(types.body.message).toEqual(['email must be a string', 'password must be a string', 'name must be a string']);
    });

    it('password change {} says that both passwords are required', async () => {
      const res = await t.http.post('/auth/password', {}, { token: user.accessToken });
      expectError(res, 400);
      expect(res.body.message).toEqual(['currentPassword is required', 'newPassword is required']);
      const short = await t.http.post('/auth/password', { currentPassword: user.password, newPassword: 'short' }, { token: user.accessToken });
      expect(short.body.message).toEqual(['newPassword must be 8 to 256 characters']);
    });

    it('refresh and revoke: one message about the token', async () => {
      for (const path of ['/auth/refresh', '/auth/revoke']) {
        const wrongType = await t.http.post(path, { refreshToken: 42 });
        expectError(wrongType, 400);
        expect(wrongType.body.message).toEqual(['refreshToken must be a string']);
      }
      const tooLong = await t.http.post('/auth/refresh', { refreshToken: 'r'.repeat(2100) });
      expect(tooLong.body.message).toEqual(['refreshToken must be at most 2048 characters']);
      // RFC 7009 §2.2: revoke answers a token that is not ours 200, however long.
      expect((await t.http.post('/auth/revoke', { refreshToken: 'r'.repeat(2100) })).status).toBe(200);
      const revoke = await t.http.post('/auth/revoke', {});
      expectError(revoke, 400);
      expect(revoke.body.message).toEqual(['token must be given (or refreshToken, or the refresh cookie in cookie mode)']);
    });

    it('admin PATCH and paging: one message per bad field', async () => {
      const token = admin.accessToken;
      const patch = await t.http.patch(`/admin/users/${user.id}`, { role: 'admin', disabled: 'yes' }, { token });
      expectError(patch, 400);
      expect(patch.body.message).toEqual(['role must be one of: USER, ADMIN', 'disabled must be true or false']);
      for (const take of ['abc', '0', '1.5', '101']) {
        const res = await t.http.get(`/admin/users?take=${take}`, { token });
        expectError(res, 400);
        expect(res.body.message).toEqual(['take must be a whole number from 1 to 100']);
      }
      const email = await t.http.get(`/admin/users?email[]=a&email[]=b`, { token });
      expectError(email, 400);
      expect(email.body.message).toHaveLength(1);
    });
  });

  describe('the body itself', () => {
    it.each([
      ['an array', '[]'],
      ['an array of credentials', '[{"email":"a@example.com","password":"password123"}]'],
      ['a string', '"x"'],
      ['a number', '42'],
      ['null', 'null'],
      ['true', 'true'],
    ])('a top-level JSON %s: 400 "the body must be a JSON object", on every route with a body', async (_, body) => {
      for (const [path, token] of [
        ['/auth/login', undefined],
        ['/auth/register', undefined],
        ['/auth/refresh', undefined],
        ['/auth/revoke', undefined],
        ['/auth/password', user.accessToken],
      ] as const) {
        const res = await post(path, body, 'application/json', token);
        expectError(res, 400);
        expect([path, res.body.message]).toEqual([path, 'the body must be a JSON object']);
      }
      const patch = await t.http.request('PATCH', `/admin/users/${user.id}`, {
        body,
        token: admin.accessToken,
        headers: { 'content-type': 'application/json' },
      });
      expectError(patch, 400);
      expect(patch.body.message).toBe('the body must be a JSON object');
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'])(
      'a body of type %s: 415 saying to send application/json',
      async (type) => {
        const res = await post('/auth/login', 'email=a%40example.com&password=x', type);
        expectError(res, 415);
        expect(res.body.message).toBe('Unsupported media type: send the body as application/json');
      },
    );

    it('a body without Content-Type: 415 saying to send application/json', async () => {
      const res = await rawRequest(t.server.baseUrl, ['POST /auth/login HTTP/1.1'], '{"email":"a@example.com","password":"x"}');
      expect(`${res.status} ${res.body}`).toMatch(/^415 /);
      expect(JSON.parse(res.body)).toEqual({
        statusCode: 415,
        message: 'Unsupported media type: send the body as application/json',
        error: 'Unsupported Media Type',
      });
    });

    it('malformed JSON: 400 saying so, quoting nothing of the body; an empty one is no body: the missing fields', async () => {
      const bad = await post('/auth/login', '{"email": "a@example.com", "password": hunter22}');
      expectError(bad, 400);
      expect(bad.body.message).toBe('Request body is not valid JSON');
      const empty = await post('/auth/login', '');
      expectError(empty, 400);
      expect(empty.body.message).toEqual(['email is required', 'password is required']);
    });

    it('JSON in another charset: 415 saying to send it in UTF-8', async () => {
      const res = await post('/auth/login', '{}', 'application/json; charset=iso-8859-1');
      expectError(res, 415);
      expect(res.body.message).toBe('Unsupported media type: send the body as application/json in UTF-8');
    });
  });

  describe('methods and paths', () => {
    const expect405 = async (method: string, path: string, allow: string, token?: string) => {
      const res = await t.http.request(method, path, { token });
      if (method === 'HEAD') {
        expect(res.status).toBe(405);
      } else {
        expectError(res, 405);
        expect(res.body).toEqual({
          statusCode: 405,
          message: `Method ${method} is not allowed on this path; it accepts ${allow}`,
          error: 'Method Not Allowed',
        });
      }
      expect([method, path, res.headers.get('allow')]).toEqual([method, path, allow]);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      return res;
    };

    it('GET /auth/login: 405, Allow: POST', async () => {
      await expect405('GET', '/auth/login', 'POST');
    });

    it('405 with the methods of the path, for static and parametric routes, with or without a token', async () => {
      await expect405('DELETE', '/auth/register', 'POST');
      await expect405('PUT', '/auth/refresh', 'POST');
      await expect405('HEAD', '/auth/logout', 'POST');
      await expect405('POST', '/auth/me', 'GET, HEAD, DELETE', user.accessToken);
      await expect405('DELETE', '/auth/sessions', 'GET, HEAD', user.accessToken);
      await expect405('GET', `/auth/sessions/${randomUUID()}`, 'DELETE');
      await expect405('GET', `/admin/users/${user.id}`, 'PATCH, DELETE', admin.accessToken);
      await expect405('PUT', `/admin/users/${user.id}`, 'PATCH, DELETE');
      await expect405('GET', `/admin/users/${user.id}/force-logout`, 'POST');
      await expect405('POST', '/admin/audit', 'GET, HEAD', admin.accessToken);
      await expect405('DELETE', '/health', 'GET, HEAD');
    });

    it('matches the path as the router does: the query string is no part of it, a trailing slash makes another path', async () => {
      await expect405('GET', '/auth/login?email=a@example.com', 'POST');
      // Fastify does not ignore trailing slashes here: /auth/login/ is another, unknown path.
      expectError(await t.http.get('/auth/login/'), 404);
    });

    it('never echoes the path or the query in a 405', async () => {
      const res = await t.http.get('/auth/login?token=secret-in-query');
      expectError(res, 405);
      expect(res.text).not.toContain('secret-in-query');
      expect(res.text).not.toContain('/auth/login');
    });

    it('OPTIONS on a route is 405 with Allow too (no CORS_ORIGINS here: no preflight is answered)', async () => {
      const res = await t.http.request('OPTIONS', '/auth/login', { headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
      expectError(res, 405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });

    it.each([
      ['GET', '/auth/nothing-here'],
      ['POST', '/auth/nothing-here'],
      ['GET', '/admin/nothing/here'],
      ['DELETE', '/nothing'],
      ['OPTIONS', '/nothing'],
      ['GET', '/auth'],
    ])('%s %s (no such path): 404, no Allow', async (method, path) => {
      const res = await t.http.request(method, path);
      expectError(res, 404);
      expect(res.headers.get('allow')).toBeNull();
    });

    it('the right method still reaches the route (and its own 404s stay 404s)', async () => {
      expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
      const gone = await t.http.delete(`/auth/sessions/${randomUUID()}`, { token: user.accessToken });
      expectError(gone, 404);
      expect(gone.body.message).toBe('Session not found');
      expect(gone.headers.get('allow')).toBeNull();
    });
  });
});

describe('405 beside CORS preflights', () => {
  const ORIGIN = 'https://app.example.com';
  const t = useApp({ CORS_ORIGINS: ORIGIN });

  it('a listed origin’s preflight is still answered 204; an unlisted one gets 405 with Allow and no CORS header', async () => {
    const preflight = (origin: string) =>
      t.http.request('OPTIONS', '/auth/login', {
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const listed = await preflight(ORIGIN);
    expect(listed.status).toBe(204);
    expect(listed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const unlisted = await preflight('https://evil.example.com');
    expectError(unlisted, 405);
    expect(unlisted.headers.get('allow')).toBe('POST');
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a listed origin can read the 405 (CORS headers on the error too)', async () => {
    const res = await t.http.get('/auth/login', { headers: { origin: ORIGIN } });
    expectError(res, 405);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });
});
