import { randomUUID } from 'node:crypto';
import { newSession, newUser, type TestUser } from '../support/factories';
import { useApp } from '../support/test-app';
import { expectError, rawRequest } from './support';

/**
 * Hostile request bodies, content types, strings and ids. Every one is refused with a 4xx
 * in NestJS's error shape (or accepted, consistently, where the input is legitimate),
 * never a 500, and refused input changes nothing in the database.
 */
describe('hostile input', () => {
  const t = useApp();
  let admin: { accessToken: string };
  let user: TestUser;

  const post = (path: string, body: string, contentType = 'application/json', headers: Record<string, string> = {}) =>
    t.http.request('POST', path, { body, headers: { 'content-type': contentType, ...headers } });
  const userCount = () => t.server.prisma.user.count();
  const emailTaken = (email: string) => t.server.prisma.user.count({ where: { email } });

  beforeAll(async () => {
    user = await newUser(t.http);
    const a = await newUser(t.http);
    await t.server.prisma.user.update({ where: { id: a.id }, data: { role: 'ADMIN' } });
    admin = await newSession(t.http, a);
  });

  describe('body size, syntax and content type', () => {
    it('answers 413 to a body over BODY_LIMIT (16 KiB), creating nothing', async () => {
      expect(t.server.config.app.bodyLimit).toBe(16 * 1024);
      const before = await userCount();
      const res = await t.http.post('/auth/register', { email: 'big@example.com', password: 'p'.repeat(17 * 1024) });
      expectError(res, 413);
      expect(res.body.message).toBe('Request body is too large');
      expectError(await t.http.post('/auth/login', { email: 'big@example.com', password: 'p'.repeat(17 * 1024) }), 413);
      expect(await userCount()).toBe(before);
    });

    it('answers 413 to an oversized chunked body (no Content-Length to trust)', async () => {
      const body = JSON.stringify({ email: 'chunked@example.com', password: 'x'.repeat(20_000) });
      const chunked = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const res = await rawRequest(
        t.server.baseUrl,
        ['POST /auth/register HTTP/1.1', 'Content-Type: application/json', 'Transfer-Encoding: chunked'],
        '0\r\n\r\n',
      );
      // An empty chunked body first (sanity: the raw request is understood), then the big one.
      expect(res.status).toBe(400);
      const big = await rawRequest(t.server.baseUrl, ['POST /auth/register HTTP/1.1', 'Content-Type: application/json', 'Transfer-Encoding: chunked'], chunked);
      expect(`${big.status} ${big.body}`).toMatch(/^413 /);
      expect(JSON.parse(big.body)).toEqual({ statusCode: 413, message: 'Request body is too large', error: 'Payload Too Large' });
    });

    it.each([
      ['truncated', '{"email": "a@example.com", "password": "hunter22'],
      ['an unquoted value', '{"email": "a@example.com", "password": hunter22}'],
      ['single quotes', "{'email': 'a@example.com'}"],
      ['a trailing comma', '{"email": "a@example.com",}'],
      ['NaN', '{"email": NaN}'],
      ['a comment', '{"email": "a@example.com" /* hi */}'],
      ['two documents', '{"email": "a@example.com"}{"password": "x"}'],
      ['invalid UTF-8 escapes', '{"email": "\\ud800"'],
    ])('answers 400 to malformed JSON (%s), without echoing the body', async (_, body) => {
      const res = await post('/auth/login', body);
      expectError(res, 400);
      expect(res.text).not.toContain('hunter22');
      expect(res.text).not.toContain('a@example.com');
    });

    it('answers 400 to an empty JSON body', async () => {
      const res = await post('/auth/register', '');
      expectError(res, 400);
    });

    it.each([
      ['text/plain', '{"email":"ct1@example.com","password":"password123"}'],
      ['text/plain;charset=UTF-8', '{"email":"ct2@example.com","password":"password123"}'],
      ['application/x-www-form-urlencoded', 'email=ct3%40example.com&password=password123'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nct4@example.com\r\n--x--\r\n'],
      ['application/xml', '<user><email>ct5@example.com</email></user>'],
      ['application/vnd.api+json', '{"email":"ct6@example.com","password":"password123"}'],
      ['application/json; charset=utf-16', '{"email":"ct7@example.com","password":"password123"}'],
      ['application/json; charset=iso-8859-1', '{"email":"ct8@example.com","password":"password123"}'],
    ])('answers 415 to a body of type %s, and registers nobody (no CSRF by HTML form or simple request)', async (type, body) => {
      const before = await userCount();
      const res = await post('/auth/register', body, type);
      expectError(res, 415);
      expect(await userCount()).toBe(before);
      // Nor can a form log in: the login attempt never reaches the password check.
      expectError(await post('/auth/login', body.replace(/ct\d/, 'x'), type), 415);
    });

    it('answers 415 to a body without any Content-Type', async () => {
      const res = await rawRequest(t.server.baseUrl, ['POST /auth/register HTTP/1.1'], '{"email":"noct@example.com","password":"password123"}');
      expect(`${res.status} ${res.body}`).toMatch(/^415 /);
      expect(JSON.parse(res.body)).toEqual({ statusCode: 415, message: expect.any(String), error: 'Unsupported Media Type' });
      expect(await emailTaken('noct@example.com')).toBe(0);
    });

    it('accepts application/json with charset=utf-8 in any case', async () => {
      const res = await post('/auth/register', JSON.stringify({ email: 'utf8@example.com', password: 'password123' }), 'Application/JSON; Charset="UTF-8"');
      expect(res.status).toBe(201);
    });

    it.each([
      ['a deep array', (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`],
      ['a deep object', (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`],
    ])('answers 400 to %s nested thousands of levels inside the size limit (no stack overflow)', async (_, nest) => {
      for (const [path, body] of [
        ['/auth/register', `{"email":"deep@example.com","password":"password123","name":${nest(2500)}}`],
        ['/auth/login', `{"email":${nest(2500)},"password":"x"}`],
        ['/auth/refresh', `{"refreshToken":${nest(2500)}}`],
      ]) {
        expect(Buffer.byteLength(body)).toBeLessThan(16 * 1024);
        expectError(await post(path, body), 400);
      }
      expect(await emailTaken('deep@example.com')).toBe(0);
    });

    it.each([
      ['an array', '[]'],
      ['an array of credentials', '[{"email":"a@example.com","password":"password123"}]'],
      ['null', 'null'],
      ['a string', '"a@example.com"'],
      ['a number', '42'],
      ['true', 'true'],
    ])('answers 400 to a top-level JSON %s', async (_, body) => {
      for (const path of ['/auth/register', '/auth/login', '/auth/refresh', '/auth/revoke']) {
        const res = await post(path, body);
        // /auth/refresh reads no required field: an unusable body is "no token", 401.
        expectError(res, path === '/auth/refresh' ? [400, 401] : 400);
      }
    });
  });

  describe('mass assignment and prototype pollution', () => {
    it.each([
      ['role', 'ADMIN'],
      ['disabled', false],
      ['emailVerified', true],
      ['refreshTokenVersion', 99],
      ['id', randomUUID()],
      ['passwordHash', '$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB'],
      ['createdAt', '2000-01-01T00:00:00Z'],
      ['sessions', [{ id: randomUUID() }]],
    ])('refuses register with %s: 400 naming it, and no user', async (field, value) => {
      const email = `mass-${field.toLowerCase()}@example.com`;
      const res = await t.http.post('/auth/register', { email, password: 'password123', [field]: value });
      expectError(res, 400);
      expect(res.body.message).toEqual(expect.arrayContaining([`property ${field} should not exist`]));
      expect(await emailTaken(email)).toBe(0);
    });

    it('refuses unknown fields on login and refresh too', async () => {
      expectError(await t.http.post('/auth/login', { email: user.email, password: user.password, role: 'ADMIN' }), 400);
      expectError(await t.http.post('/auth/refresh', { refreshToken: user.refreshToken, sessionId: randomUUID() }), 400);
    });

    it.each([
      ['__proto__ at the top', '{"email":"proto1@example.com","password":"password123","__proto__":{"role":"ADMIN","polluted":true}}'],
      ['constructor.prototype', '{"email":"proto2@example.com","password":"password123","constructor":{"prototype":{"polluted":true}}}'],
      ['__proto__ nested in a field', '{"email":"proto3@example.com","password":"password123","name":{"__proto__":{"polluted":true}}}'],
      ['an escaped __proto__ key', '{"email":"proto4@example.com","password":"password123","\\u005f_proto__":{"polluted":true}}'],
    ])('refuses %s: 400, no user, and Object.prototype untouched', async (_, body) => {
      const res = await post('/auth/register', body);
      expectError(res, 400);
      expect(await t.server.prisma.user.count({ where: { email: { startsWith: 'proto' } } })).toBe(0);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).role).toBeUndefined();
      expectError(await post('/auth/login', body), 400);
    });

    it('refuses __proto__ and constructor paths in query strings, and pollutes nothing', async () => {
      for (const query of ['__proto__[role]=ADMIN', 'constructor[prototype][polluted]=1', '__proto__.polluted=1']) {
        const res = await t.http.get(`/admin/users?${query}`, { token: admin.accessToken });
        expectError(res, 400);
      }
      // Bare names of Object.prototype members slip past class-validator's whitelist (it
      // sees them as known) and are ignored: harmless, but not a 400. Never a 500.
      for (const query of ['__proto__=x', 'constructor=x', 'toString=x']) {
        const res = await t.http.get(`/admin/users?${query}`, { token: admin.accessToken });
        expect([200, 400]).toContain(res.status);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).role).toBeUndefined();
    });
  });

  describe('strings: control characters, length, unicode', () => {
    it.each([
      ['NUL', 'a\u0000b'],
      ['a newline (log injection)', 'Ada\n{"level":50,"msg":"forged"}'],
      ['a carriage return', 'Ada\rBob'],
      ['ESC (terminal escapes)', 'Ada\u001b[31m'],
      ['DEL', 'Ada\u007f'],
      ['a C1 control', 'Ada\u0085'],
    ])('refuses a name with %s: 400, no user', async (_, name) => {
      const email = `ctl-${randomUUID().slice(0, 8)}@example.com`;
      const res = await t.http.post('/auth/register', { email, password: 'password123', name });
      expectError(res, 400);
      expect(await emailTaken(email)).toBe(0);
    });

    it.each([
      ['NUL', 'a\u0000b@example.com'],
      ['CRLF (header injection)', 'a@example.com\r\nBcc: victim@example.com'],
      ['a tab', 'a\t@example.com'],
      ['ESC', 'a\u001b@example.com'],
    ])('refuses an email with %s on register and login: 400', async (_, email) => {
      const before = await userCount();
      expectError(await t.http.post('/auth/register', { email, password: 'password123' }), 400);
      expectError(await t.http.post('/auth/login', { email, password: 'password123' }), 400);
      expect(await userCount()).toBe(before);
    });

    it('refuses 10 KB strings in every field with 400, and never hashes a 10 KB password', async () => {
      const long = 'a'.repeat(10 * 1024);
      const before = await userCount();
      for (const body of [
        { email: `${long}@example.com`, password: 'password123' },
        { email: `a@${long}.com`, password: 'password123' },
        { email: 'long1@example.com', password: long },
        { email: 'long2@example.com', password: 'password123', name: long },
      ]) {
        expectError(await t.http.post('/auth/register', body), 400);
      }
      expectError(await t.http.post('/auth/login', { email: user.email, password: long }), 400);
      expectError(await t.http.post('/auth/login', { email: `${long}@example.com`, password: 'x' }), 400);
      expectError(await t.http.post('/auth/refresh', { refreshToken: long }), 400);
      // RFC 7009 §2.2: a token that is not ours, whatever its length, is answered 200.
      expect((await t.http.post('/auth/revoke', { refreshToken: long })).status).toBe(200);
      expect(await userCount()).toBe(before);
    });

    it('keeps an emoji, RTL, combining-character name exactly as sent', async () => {
      for (const name of ['Zoë 🦄', 'مريم', 'שלום world', 'Ada\u200d👩‍💻', 'e\u0301le\u0300ve', '𝔄𝔡𝔞']) {
        const res = await t.http.post('/auth/register', { email: `uni-${randomUUID().slice(0, 8)}@example.com`, password: 'password123', name });
        expect(`${res.status} ${res.text}`).toMatch(/^201 /);
        expect(res.body.user.name).toBe(name);
        expect((await t.http.get('/auth/me', { token: res.body.accessToken })).body.name).toBe(name);
      }
    });

    it('handles unicode emails without a 500: accepted and usable, or refused with 400', async () => {
      for (const email of ['zoë@example.com', 'δοκιμή@παράδειγμα.δοκιμή', '用户@例子.广告', 'user@xn--bcher-kva.example', '🦄@example.com']) {
        const res = await t.http.post('/auth/register', { email, password: 'password123' });
        if (res.status === 201) {
          expect((await t.http.post('/auth/login', { email, password: 'password123' })).status).toBe(200);
        } else {
          expectError(res, 400);
        }
      }
    });

    it('treats the NFC and NFD spellings of an email as the same account', async () => {
      const nfc = 'jose\u0301-nfc@example.com'.normalize('NFC');
      const nfd = nfc.normalize('NFD');
      expect(nfc).not.toBe(nfd);
      const first = await t.http.post('/auth/register', { email: nfc, password: 'password123' });
      expect(first.status).toBe(201);
      const second = await t.http.post('/auth/register', { email: nfd, password: 'another-password' });
      expect(second.status).toBe(409);
      expect((await t.http.post('/auth/login', { email: nfd, password: 'password123' })).status).toBe(200);
    });

    it('answers the NFC and NFD spellings of an email without a 500 either way', async () => {
      const nfc = 'rene\u0301-both@example.com'.normalize('NFC');
      for (const email of [nfc, nfc.normalize('NFD')]) {
        const res = await t.http.post('/auth/register', { email, password: 'password123' });
        expect([201, 400, 409]).toContain(res.status);
        if (res.status !== 201) expectError(res, [400, 409]);
      }
    });
  });

  describe('wrong JSON types where strings are expected', () => {
    const WRONG = [
      ['an array', ['a@example.com']],
      ['a number', 12345678],
      ['null', null],
      ['an object', { $ne: null }],
      ['true', true],
    ] as const;

    it.each(WRONG)('refuses %s as email, password or name on register: 400, no user', async (_, value) => {
      const before = await userCount();
      for (const body of [
        { email: value, password: 'password123' },
        { email: 'types1@example.com', password: value },
        { email: 'types2@example.com', password: 'password123', name: value },
      ]) {
        const res = await t.http.post('/auth/register', body);
        // name: null is "no name" (optional), which is fine; anything else is a 400.
        if (res.status === 201) expect(body).toEqual({ email: 'types2@example.com', password: 'password123', name: null });
        else expectError(res, 400);
      }
      if (value !== null) expect(await userCount()).toBe(before);
    });

    it.each(WRONG)('refuses %s as email or password on login: 400, never a login', async (_, value) => {
      expectError(await t.http.post('/auth/login', { email: value, password: user.password }), 400);
      expectError(await t.http.post('/auth/login', { email: user.email, password: value }), 400);
    });

    it.each(WRONG)('refuses %s as refreshToken on refresh and revoke: 400 or 401', async (_, value) => {
      expectError(await t.http.post('/auth/refresh', { refreshToken: value }), [400, 401]);
      expectError(await t.http.post('/auth/revoke', { refreshToken: value }), 400);
    });

    it('refuses wrong types in PATCH /admin/users/:id: 400, and the user is unchanged', async () => {
      for (const body of [
        { role: 'SUPERUSER' },
        { role: ['ADMIN'] },
        { role: 'admin' },
        { role: null },
        { disabled: 'yes' },
        { disabled: 1 },
        { disabled: null },
      ]) {
        expectError(await t.http.patch(`/admin/users/${user.id}`, body, { token: admin.accessToken }), 400);
      }
      const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(row).toMatchObject({ role: 'USER', disabled: false });
    });

    it('refuses bad paging parameters with 400, never 500', async () => {
      for (const query of ['take=abc', 'take=-1', 'take=0', 'take=1e9', 'take=1.5', 'cursor=not-a-uuid', "cursor=' OR 1=1 --", 'email[]=a&email[]=b']) {
        expectError(await t.http.get(`/admin/users?${query}`, { token: admin.accessToken }), 400);
      }
      for (const query of ['take=abc', 'cursor=-1', 'cursor=99999999999999999999', 'userId=x', "type=' OR 1=1"]) {
        expectError(await t.http.get(`/admin/audit?${query}`, { token: admin.accessToken }), 400);
      }
      // LIKE wildcards and quotes in a search are text, not syntax.
      for (const email of ['%', '_', "'", '\\', '%25%27']) {
        const res = await t.http.get(`/admin/users?email=${encodeURIComponent(email)}`, { token: admin.accessToken });
        expect(res.status).toBe(200);
      }
    });
  });

  describe('ids that are not uuids', () => {
    const BAD_IDS = [
      'not-a-uuid',
      '1',
      "' OR '1'='1",
      '..%2F..%2Fetc%2Fpasswd',
      '%00',
      'A'.repeat(1000),
      `${randomUUID()}x`,
      `{${randomUUID()}}`,
      randomUUID().toUpperCase(),
      '00000000-0000-0000-0000-000000000000',
    ];

    // 414: Fastify's router refuses a path parameter over 100 characters before routing.
    const CASES = BAD_IDS.map((id) => [id.length > 40 ? `${id.slice(0, 8)}… (${id.length} characters)` : id, id] as const);

    it.each(CASES)('DELETE /auth/sessions/%s: 404 (or 400/414), never 500, and the session lives', async (_, id) => {
      const res = await t.http.delete(`/auth/sessions/${encodeURI(id).replace(/'/g, '%27')}`, { token: user.accessToken });
      expectError(res, [400, 404, 414]);
      expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    });

    it.each(CASES)('/admin/users/:id and /admin/sessions/:id with %s: 404 (or 400/414), never 500', async (_, id) => {
      const path = encodeURI(id).replace(/'/g, '%27');
      const token = admin.accessToken;
      expectError(await t.http.get(`/admin/users/${path}/sessions`, { token }), [400, 404, 414]);
      expectError(await t.http.patch(`/admin/users/${path}`, { role: 'ADMIN' }, { token }), [400, 404, 414]);
      expectError(await t.http.post(`/admin/users/${path}/force-logout`, undefined, { token }), [400, 404, 414]);
      expectError(await t.http.delete(`/admin/sessions/${path}`, { token }), [400, 404, 414]);
    });

    it('answers Fastify’s router errors (bad percent-encoding, over-long parameter) in the error shape, with no-store', async () => {
      const bad = await t.http.get('/auth/sessions/%E0%A4%A', { token: user.accessToken });
      expectError(bad, 400);
      expect(bad.body.message).toBe('Malformed URL');
      const long = await t.http.delete(`/auth/sessions/${'a'.repeat(101)}`, { token: user.accessToken });
      expectError(long, 414);
      for (const res of [bad, long]) {
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.text).not.toContain('/auth/sessions/');
      }
    });
  });
});
