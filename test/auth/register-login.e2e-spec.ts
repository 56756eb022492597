import { ADMIN, ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { PRODUCTION_ARGON2, useApp } from '../support/test-app';

describe('register and login', () => {
  // The production hashing cost: the stored hash is checked below.
  const t = useApp(PRODUCTION_ARGON2);

  it('registers: 201 with a token response whose access token works', async () => {
    const res = await t.http.post('/auth/register', { email: '  Grace@Example.COM ', password: 'a long passphrase', name: 'Grace' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      tokenType: 'Bearer',
      expiresIn: 900,
      sessionId: expect.any(String),
      user: {
        id: expect.any(String),
        email: 'grace@example.com',
        emailVerified: false,
        name: 'Grace',
        role: 'USER',
        disabled: false,
        createdAt: expect.any(String),
      },
    });
    const me = await t.http.get('/auth/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(res.body.user);
  });

  it('puts the contract claims in the access token', async () => {
    const user = await newUser(t.http);
    const claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toEqual({
      sub: user.id,
      sid: user.sessionId,
      ver: 0,
      role: 'USER',
      iat: expect.any(Number),
      exp: expect.any(Number),
      iss: t.server.config.app.url,
      aud: 'nest-auth-backend',
      jti: expect.any(String),
      // The sign-in facts of the session (a registration is a password sign-in).
      auth_time: expect.any(Number),
      amr: ['pwd'],
      acr: 'aal1',
    });
    expect(claims.exp - claims.iat).toBe(900);
    expect(claims.auth_time).toBeLessThanOrEqual(claims.iat);
    // RFC 9068: an explicitly typed access token, signed by the current asymmetric key.
    const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  });

  it('refuses a second account for the same email, whatever its case and spaces: 409', async () => {
    const user = await newUser(t.http);
    const res = await t.http.post('/auth/register', { email: ` ${user.email.toUpperCase()}`, password: 'another password' });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ statusCode: 409, message: 'Email is already registered', error: 'Conflict' });
    expect(await t.server.prisma.user.count({ where: { email: user.email } })).toBe(1);
  });

  it('answers 400 listing every problem of an invalid body, and creates nothing', async () => {
    const before = await t.server.prisma.user.count();
    const res = await t.http.post('/auth/register', { email: 'not-an-email', password: 'short', name: 'x\u0007y', role: 'ADMIN' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Bad Request');
    expect(res.body.message).toEqual(
      expect.arrayContaining([
        'email must be an email address',
        'password must be 8 to 256 characters',
        'name must not contain control characters',
        'property role should not exist',
      ]),
    );
    expect(await t.server.prisma.user.count()).toBe(before);
    expect(await t.server.prisma.session.count({ where: { user: { email: 'not-an-email' } } })).toBe(0);
  });

  it('refuses names with invisible bidi overrides, and keeps emoji sequences', async () => {
    const spoof = await t.http.post('/auth/register', { email: 'bidi@example.com', password: 'password123', name: 'admin\u202Egnp.exe' });
    expect(spoof.status).toBe(400);
    expect(spoof.body.message).toContain('name must not contain control characters');
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    const ok = await t.http.post('/auth/register', { email: 'emoji@example.com', password: 'password123', name: `Ada ${family}` });
    expect(ok.status).toBe(201);
    expect(ok.body.user.name).toBe(`Ada ${family}`);
  });

  it('accepts a 256-character password whole (no truncation)', async () => {
    const password = 'p'.repeat(255) + 'A';
    const user = await newUser(t.http, { password });
    expect((await t.http.post('/auth/login', { email: user.email, password })).status).toBe(200);
    expect((await t.http.post('/auth/login', { email: user.email, password: 'p'.repeat(255) + 'B' })).status).toBe(401);
    expect((await t.http.post('/auth/register', { email: 'long@example.com', password: 'p'.repeat(257) })).status).toBe(400);
  });

  it('logs in with the right password: 200, a new session', async () => {
    const user = await newUser(t.http);
    const res = await t.http.post('/auth/login', { email: user.email.toUpperCase(), password: user.password });
    expect(res.status).toBe(200);
    expect(res.body.sessionId).not.toBe(user.sessionId);
    expect(res.body.user.id).toBe(user.id);
    expect((await t.http.get('/auth/me', { token: res.body.accessToken })).status).toBe(200);
  });

  it('answers unknown email and wrong password with the identical 401', async () => {
    const user = await newUser(t.http);
    const unknown = await t.http.post('/auth/login', { email: 'nobody@example.com', password: user.password });
    const wrong = await t.http.post('/auth/login', { email: user.email, password: 'not the password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.text).toBe(wrong.text);
    expect(unknown.body).toEqual({ statusCode: 401, message: 'Invalid email or password', error: 'Unauthorized' });
  });

  it('answers a malformed login body with 400, not 401', async () => {
    const res = await t.http.post('/auth/login', { email: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.message).toEqual(expect.arrayContaining(['email must be an email address', 'password is required']));
  });

  it('never returns a password hash or stores the password in clear', async () => {
    const user = await newUser(t.http);
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    const login = await t.http.post('/auth/login', { email: user.email, password: user.password });
    const me = await t.http.get('/auth/me', { token: login.body.accessToken });
    for (const text of [login.text, me.text]) {
      expect(text).not.toContain(row.passwordHash);
      expect(text).not.toContain(user.password);
      expect(text).not.toMatch(/passwordHash|refreshTokenVersion/);
    }
  });

  it('refuses bearer-less, garbage and query-string tokens on protected routes: 401', async () => {
    const user = await newUser(t.http);
    expect((await t.http.get('/auth/me')).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: 'garbage' })).status).toBe(401);
    expect((await t.http.get(`/auth/me?access_token=${user.accessToken}`)).status).toBe(401);
    expect((await t.http.get(`/auth/me?token=${user.accessToken}`)).status).toBe(401);
  });
});

describe('REGISTRATION_ENABLED=false: accounts come from admins only', () => {
  const t = useApp({ ...ADMIN_ENV, REGISTRATION_ENABLED: 'false' });

  it('refuses POST /auth/register with 403 and a message, stores nothing, and still signs people in', async () => {
    const res = await t.http.post('/auth/register', { email: 'newcomer@example.com', password: 'a long passphrase' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ statusCode: 403, message: 'Registration is disabled on this server: ask an administrator for an account', error: 'Forbidden' });
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await t.server.prisma.user.count({ where: { email: 'newcomer@example.com' } })).toBe(0);
    // The body is validated first, as on every route: only a valid one is refused with 403.
    expect((await t.http.post('/auth/register', { email: 'not-an-email' })).status).toBe(400);
    expect((await newAdmin(t.http, ADMIN)).accessToken).toEqual(expect.any(String));
  });
});
