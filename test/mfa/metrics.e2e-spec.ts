import { useApp } from '../support/test-app';
import { currentStep, enrolledUser, firstStep, totpAt } from './support';

const METRICS_TOKEN = 'metrics-token-for-the-scraper-1234';
const sample = (text: string, name: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${name} `))
      ?.slice(name.length + 1) ?? 0,
  );

/** auth_logins_total{outcome="succeeded"} counts completed sign-ins: a right password awaiting its second step is not one yet. */
describe('the login metric with a second step', () => {
  const t = useApp({ METRICS_TOKEN });
  const scrape = async () => (await t.http.get('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text;
  const succeeded = (text: string) => sample(text, 'auth_logins_total{outcome="succeeded"}');
  const failed = (text: string) => sample(text, 'auth_logins_total{outcome="failed"}');

  it('counts the sign-in once it completes, and a wrong second step as failed', async () => {
    const user = await enrolledUser(t.http);
    const before = await scrape();
    const mfaToken = await firstStep(t.http, user);
    const pending = await scrape();
    expect([succeeded(pending) - succeeded(before), failed(pending) - failed(before)]).toEqual([0, 0]);

    const right = totpAt(user.secret, currentStep());
    expect((await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: right === '000000' ? '111111' : '000000' })).status).toBe(401);
    expect((await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: right })).status).toBe(200);
    const after = await scrape();
    expect([succeeded(after) - succeeded(before), failed(after) - failed(before)]).toEqual([1, 1]);
  });
});
