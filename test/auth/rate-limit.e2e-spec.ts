import { ADMIN, ADMIN_ENV, newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('login rate limit (RATE_LIMIT_LOGIN per IP and per email, in the database)', () => {
  const t = useApp({ RATE_LIMIT_LOGIN: '3', TRUST_PROXY: 'true', ...ADMIN_ENV });

  const login = (email: string, password: string, ip: string) => t.http.post('/auth/login', { email, password }, { headers: { 'x-forwarded-for': ip } });

  it('answers 429 with Retry-After after the limit per IP, and counts failed attempts', async () => {
    const user = await newUser(t.http);
    for (let i = 0; i < 3; i++) expect((await login(user.email, 'wrong password', '10.0.0.1')).status).toBe(401);
    const limited = await login(user.email, user.password, '10.0.0.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body).toEqual({ statusCode: 429, message: 'Too many attempts; try again later', error: 'Too Many Requests' });
  });

  it('limits per email across IPs, without touching other accounts', async () => {
    const victim = await newUser(t.http);
    const other = await newUser(t.http);
    for (let i = 0; i < 3; i++) await login(victim.email, 'guess ' + i, `10.1.0.${i + 1}`);
    expect((await login(victim.email, victim.password, '10.1.0.9')).status).toBe(429);
    expect((await login(other.email, other.password, '10.1.0.10')).status).toBe(200);
  });

  it('keeps the counters in the database, where every instance sees them', async () => {
    const rows = await t.server.prisma.throttleBucket.findMany();
    expect(rows.some((r) => r.key.includes('login-ip') && r.hits >= 3)).toBe(true);
  });

  it('lets the user in again once the window has passed (no permanent lockout)', async () => {
    const user = await newUser(t.http);
    for (let i = 0; i < 4; i++) await login(user.email, 'wrong password', '10.2.0.1');
    expect((await login(user.email, user.password, '10.2.0.2')).status).toBe(429);
    // Let the minute pass in the database rather than in the test.
    await t.server.prisma.throttleBucket.updateMany({ data: { expiresAt: new Date(Date.now() - 1000), blockedUntil: new Date(Date.now() - 1000) } });
    expect((await login(user.email, user.password, '10.2.0.2')).status).toBe(200);
  });

  it('limits password-change attempts per user, so a stolen access token cannot guess the password forever', async () => {
    const user = await newUser(t.http);
    const change = (currentPassword: string) =>
      t.http.post('/auth/password', { currentPassword, newPassword: 'a brand new password' }, { token: user.accessToken });
    for (let i = 0; i < 3; i++) expect((await change('guess ' + i)).status).toBe(401);
    const limited = await change(user.password);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The password did not change.
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password }, { headers: { 'x-forwarded-for': '10.3.0.1' } })).status).toBe(200);
  });

  describe('device cookies: strangers cannot lock an owner out', () => {
    const deviceCookieOf = (headers: Headers) =>
      headers
        .getSetCookie()
        .find((c) => c.startsWith('auth_device='))
        ?.split(';')[0];
    const loginWith = (email: string, password: string, ip: string, cookie?: string) =>
      t.http.post('/auth/login', { email, password }, { headers: { 'x-forwarded-for': ip, ...(cookie ? { cookie } : {}) } });

    it('keeps a budget of its own for a device that signed in before, while strangers share theirs', async () => {
      const owner = await newUser(t.http);
      const signedIn = await loginWith(owner.email, owner.password, '10.4.0.1');
      expect(signedIn.status).toBe(200);
      const device = deviceCookieOf(signedIn.headers)!;
      expect(signedIn.headers.getSetCookie().find((c) => c.startsWith('auth_device='))).toMatch(/HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/);
      // The cookie names no account.
      expect(device).not.toContain(owner.email.split('@')[0]);

      // Wrong guesses from several addresses trip the strangers' budget of the account…
      for (let i = 0; i < 4; i++) await loginWith(owner.email, `guess ${i}`, `10.4.1.${i + 1}`);
      expect((await loginWith(owner.email, owner.password, '10.4.2.1')).status).toBe(429);
      // …but the owner's device, from yet another address, still gets in.
      expect((await loginWith(owner.email, owner.password, '10.4.2.2', device)).status).toBe(200);
      // A cookie that was tampered with is a stranger's.
      const forged = device.slice(0, -2) + (device.endsWith('AA') ? 'BB' : 'AA');
      expect((await loginWith(owner.email, owner.password, '10.4.2.3', forged)).status).toBe(429);
    });

    it('locks out only that device when guesses come with its cookie', async () => {
      const owner = await newUser(t.http);
      const first = deviceCookieOf((await loginWith(owner.email, owner.password, '10.5.0.1')).headers)!;
      const second = deviceCookieOf((await loginWith(owner.email, owner.password, '10.5.0.2')).headers)!;
      for (let i = 0; i < 3; i++) expect((await loginWith(owner.email, `guess ${i}`, `10.5.1.${i + 1}`, first)).status).toBe(401);
      expect((await loginWith(owner.email, owner.password, '10.5.2.1', first)).status).toBe(429);
      expect((await loginWith(owner.email, owner.password, '10.5.2.2', second)).status).toBe(200);
      // The strangers' budget was not spent by the device's guesses.
      expect((await loginWith(owner.email, owner.password, '10.5.2.3')).status).toBe(200);
    });

    it('protects an admin account the same way', async () => {
      const device = deviceCookieOf((await loginWith(ADMIN.email, ADMIN.password, '10.6.0.1')).headers)!;
      for (let i = 0; i < 11; i++) await loginWith(ADMIN.email, `guess ${i}`, `10.6.1.${i + 1}`);
      expect((await loginWith(ADMIN.email, ADMIN.password, '10.6.2.1')).status).toBe(429);
      const res = await loginWith(ADMIN.email, ADMIN.password, '10.6.2.2', device);
      expect(res.status).toBe(200);
      expect(res.body.user.role).toBe('ADMIN');
    });

    it('vouches for one account only: the cookie of another account is a stranger’s', async () => {
      const owner = await newUser(t.http);
      const other = await newUser(t.http);
      const othersDevice = deviceCookieOf((await loginWith(other.email, other.password, '10.7.0.1')).headers)!;
      for (let i = 0; i < 4; i++) await loginWith(owner.email, `guess ${i}`, `10.7.1.${i + 1}`);
      expect((await loginWith(owner.email, owner.password, '10.7.2.1', othersDevice)).status).toBe(429);
    });
  });
});

describe('registration rate limit (RATE_LIMIT_REGISTER per IP)', () => {
  const t = useApp({ RATE_LIMIT_REGISTER: '3', TRUST_PROXY: 'true' });
  const register = (email: string, ip: string) =>
    t.http.post('/auth/register', { email, password: 'a long enough password' }, { headers: { 'x-forwarded-for': ip } });

  it('counts every attempt, a taken email included, so 409s are no free existence check', async () => {
    expect((await register('taken@example.com', '10.8.0.1')).status).toBe(201);
    expect((await register('taken@example.com', '10.8.0.1')).status).toBe(409);
    expect((await register('taken@example.com', '10.8.0.1')).status).toBe(409);
    const limited = await register('taken@example.com', '10.8.0.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await register('fresh@example.com', '10.8.0.1')).status).toBe(429);
    // Nothing was created by the refused attempt; another address is not affected.
    expect(await t.server.prisma.user.count({ where: { email: 'fresh@example.com' } })).toBe(0);
    expect((await register('fresh@example.com', '10.8.0.2')).status).toBe(201);
  });
});
