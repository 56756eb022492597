import { newUser } from '../support/factories';
import { useApp } from '../support/test-app';

const METRICS_TOKEN = 'metrics-token-for-the-scraper-1234';

/** The value of one sample in a Prometheus text exposition, or undefined. */
const sample = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe('GET /metrics for operators', () => {
  const t = useApp({ METRICS_TOKEN });
  const scrape = (token = METRICS_TOKEN) => t.http.get('/metrics', { headers: { authorization: `Bearer ${token}` } });

  it('needs the metrics token: 401 without it or with another one, never a JWT check', async () => {
    expect((await t.http.get('/metrics')).status).toBe(401);
    expect((await scrape('not-the-metrics-token-at-all')).status).toBe(401);
    const user = await newUser(t.http);
    expect((await t.http.get('/metrics', { token: user.accessToken })).status).toBe(401);
  });

  it('counts logins and refreshes by outcome, and shows the revocation window and listener state', async () => {
    const before = (await scrape()).text;
    const user = await newUser(t.http);
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    expect((await t.http.post('/auth/login', { email: user.email, password: 'not the password' })).status).toBe(401);
    expect((await t.http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);

    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const delta = (name: string) => (sample(res.text, name) ?? 0) - (sample(before, name) ?? 0);
    expect(delta('auth_logins_total{outcome="succeeded"}')).toBe(1);
    expect(delta('auth_logins_total{outcome="failed"}')).toBe(1);
    expect(delta('auth_refreshes_total{outcome="rotated"}')).toBe(1);
    expect(delta('auth_revocation_window_entries')).toBeGreaterThanOrEqual(1);
    expect(sample(res.text, 'auth_revocation_listener_live')).toBe(1);
    // The logout's access token was verified once, then found in the verification cache.
    expect(delta('auth_token_verifications_total{result="miss"}')).toBeGreaterThanOrEqual(1);
    // Every request is timed by route pattern and status.
    expect(delta('http_request_duration_seconds_count{method="POST",route="/auth/login",status="401"}')).toBe(1);
    expect(delta('http_request_duration_seconds_count{method="POST",route="/auth/logout",status="204"}')).toBe(1);
    // Nothing personal in it.
    expect(res.text).not.toContain(user.email);
    expect(res.text).not.toContain(user.id);
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  const t = useApp();

  it('is off: 404, as if there were no such route', async () => {
    expect((await t.http.get('/metrics', { headers: { authorization: 'Bearer anything-at-all-here' } })).status).toBe(404);
  });
});

describe('GET /metrics: what the deployment alerts watch (deploy/prometheus/alerts.yml)', () => {
  const t = useApp({ METRICS_TOKEN, SIGNING_KEY_ROTATION: '30d' });
  const scrape = async () => (await t.http.get('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text;

  it('shows the outbox backlog and failures, the signing keys and their rotation, the open feeds', async () => {
    const { outboxDelivery } = t.server.prisma;
    const minute = 60_000;
    // A due delivery that a dead worker's lease still holds (no worker here may claim it), and a failed one.
    await outboxDelivery.create({
      data: {
        kind: 'mail',
        target: 'a@example.com',
        eventType: 'x',
        nextAttemptAt: new Date(Date.now() - 3 * minute),
        claimedUntil: new Date(Date.now() + 10 * minute),
      },
    });
    await outboxDelivery.create({ data: { kind: 'mail', target: 'b@example.com', eventType: 'x', status: 'failed', nextAttemptAt: null } });

    const text = await scrape();
    expect(sample(text, 'auth_outbox_deliveries{status="pending"}')).toBe(1);
    expect(sample(text, 'auth_outbox_deliveries{status="failed"}')).toBe(1);
    expect(sample(text, 'auth_outbox_oldest_due_seconds')).toBeGreaterThanOrEqual(180);
    expect(sample(text, 'auth_signing_keys{status="active"}')).toBe(1);
    expect(sample(text, 'auth_signing_keys{status="next"}')).toBe(0);
    expect(sample(text, 'auth_signing_key_age_seconds')).toBeGreaterThanOrEqual(0);
    // The next key is due 30 days after the first one started signing, less the 10-minute lead.
    const dueIn = sample(text, 'auth_signing_key_rotation_due_seconds')!;
    expect(dueIn).toBeLessThanOrEqual(30 * 86_400 - 600);
    expect(dueIn).toBeGreaterThan(29 * 86_400);
    expect(sample(text, 'auth_revocation_feed_streams')).toBe(0);
  });

  it('leaves the rotation gauge out when SIGNING_KEY_ROTATION is off', async () => {
    await t.restart({ METRICS_TOKEN });
    const text = await scrape();
    expect(sample(text, 'auth_signing_key_rotation_due_seconds')).toBeUndefined();
    expect(text).not.toContain('auth_signing_key_rotation_due_seconds ');
    expect(sample(text, 'auth_signing_keys{status="active"}')).toBe(1);
  });
});
