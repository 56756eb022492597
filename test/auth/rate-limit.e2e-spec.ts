import { newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('login rate limit (RATE_LIMIT_LOGIN per IP and per email, in the database)', () => {
  const t = useApp({ RATE_LIMIT_LOGIN: '3', TRUST_PROXY: 'true' });

  const login = (email: string, password: string, ip: string) =>
    t.http.post('/auth/login', { email, password }, { headers: { 'x-forwarded-for': ip } });

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
});
