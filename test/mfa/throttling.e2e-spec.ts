import { useApp } from '../support/test-app';
import { currentStep, enrolledUser, totpAt } from './support';

/** Second steps and the login budget (RATE_LIMIT_LOGIN per IP and per account; device cookies). */
describe('second factors: the login budget', () => {
  const t = useApp({ RATE_LIMIT_LOGIN: '3', TRUST_PROXY: 'true' });
  const from = (ip: string, cookie?: string) => ({ headers: { 'x-forwarded-for': ip, ...(cookie ? { cookie } : {}) } });
  const deviceCookieOf = (headers: Headers) =>
    headers
      .getSetCookie()
      .find((c) => c.startsWith('auth_device='))
      ?.split(';')[0];

  it("counts second-step attempts against the account's budget, wherever they come from", async () => {
    const user = await enrolledUser(t.http);
    const first = await t.http.post('/auth/login', { email: user.email, password: user.password }, from('10.8.0.1'));
    expect(first.body.mfaRequired).toBe(true);
    const step = (code: string, ip: string) => t.http.post('/auth/login/mfa', { mfaToken: first.body.mfaToken, method: 'totp', code }, from(ip));
    const right = totpAt(user.secret, currentStep());
    const wrong = right === '000000' ? '111111' : '000000';
    expect((await step(wrong, '10.8.0.2')).status).toBe(401);
    expect((await step(wrong, '10.8.0.3')).status).toBe(401);
    // The password and two wrong codes spent the account's 3: even the right code waits.
    const limited = await step(right, '10.8.0.4');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('remembers the device only after the second step; then its own budget gets the owner in while strangers are locked out', async () => {
    const owner = await enrolledUser(t.http);
    const first = await t.http.post('/auth/login', { email: owner.email, password: owner.password }, from('10.9.0.1'));
    expect(deviceCookieOf(first.headers)).toBeUndefined();
    const second = await t.http.post(
      '/auth/login/mfa',
      { mfaToken: first.body.mfaToken, method: 'totp', code: totpAt(owner.secret, currentStep()) },
      from('10.9.0.2'),
    );
    expect(second.status).toBe(200);
    const device = deviceCookieOf(second.headers)!;
    expect(device).toBeDefined();

    for (let i = 0; i < 3; i++) await t.http.post('/auth/login', { email: owner.email, password: `guess ${i}` }, from(`10.9.1.${i + 1}`));
    expect((await t.http.post('/auth/login', { email: owner.email, password: owner.password }, from('10.9.2.1'))).status).toBe(429);
    const again = await t.http.post('/auth/login', { email: owner.email, password: owner.password }, from('10.9.2.2', device));
    expect(again.body.mfaRequired).toBe(true);
    const done = await t.http.post(
      '/auth/login/mfa',
      { mfaToken: again.body.mfaToken, method: 'totp', code: totpAt(owner.secret, currentStep() + 1) },
      from('10.9.2.3', device),
    );
    expect(done.status).toBe(200);
  });
});
