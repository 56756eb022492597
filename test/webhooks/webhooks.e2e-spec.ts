import { Webhook } from 'standardwebhooks';
import { AuditService } from '../../src/audit/audit.service';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { useApp, type AppUnderTest } from '../support/test-app';
import { useReceiver, type Receiver, type Received } from '../support/webhook-receiver';
import { waitFor } from '../support/wait';
import { UNDELIVERABLE_URLS } from '../support/undeliverable-urls';

/**
 * Webhooks (API.md, "Webhooks and back-channel logout"): through HTTP against the real app,
 * delivered by its outbox to real receivers on loopback, verified with the
 * `standardwebhooks` package (the specification's reference library), not with our code.
 */

const ALLOW_LOOPBACK = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };
const EVENT_TYPES = [
  'session.revoked',
  'user.logged_out_everywhere',
  'user.force_logged_out',
  'user.disabled',
  'user.enabled',
  'user.role_changed',
  'password.changed',
  'password.reset',
  'token.reuse_detected',
  'user.registered',
  'email.verified',
];

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  eventType: string;
  target: string;
}

async function createWebhook(t: AppUnderTest, admin: TestUser, url: string, events = EVENT_TYPES) {
  const res = await t.http.post('/admin/webhooks', { url, events, description: 'spec receiver' }, { token: admin.accessToken });
  if (res.status !== 201) throw new Error(`webhook not created: ${res.status} ${res.text}`);
  return res.body as { id: string; secret: string };
}

/** The payload of a request, verified by the standardwebhooks package with `secret` (it throws if the signature or timestamp is wrong). */
function verified(secret: string, request: Received): { type: string; timestamp: string; data: Record<string, unknown> } {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as never;
}

const deliveries = async (t: AppUnderTest, admin: TestUser, webhookId: string): Promise<Delivery[]> =>
  (await t.http.get(`/admin/webhooks/${webhookId}/deliveries?take=100`, { token: admin.accessToken })).body.items;

describe('webhooks: the admin routes', () => {
  const t = useApp({ ...ADMIN_ENV, ...ALLOW_LOOPBACK });
  let admin: TestUser;
  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  it('creates an endpoint with a whsec_ secret shown once; lists, changes and deletes it; never shows the secret again', async () => {
    const created = await t.http.post(
      '/admin/webhooks',
      { url: 'https://hooks.example.com/auth?key=abc', events: ['session.revoked', 'session.revoked', 'user.disabled'] },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      url: 'https://hooks.example.com/auth?key=abc',
      events: ['session.revoked', 'user.disabled'],
      description: null,
      enabled: true,
      disabledReason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      createdAt: expect.any(String),
    });
    const { id, secret } = created.body;
    const listed = await t.http.get('/admin/webhooks', { token: admin.accessToken });
    expect(listed.body.items).toEqual([expect.objectContaining({ id, enabled: true })]);
    expect(listed.text).not.toContain(secret.slice(6));

    const changed = await t.http.patch(
      `/admin/webhooks/${id}`,
      { events: ['user.enabled'], description: '  billing  ', enabled: false },
      { token: admin.accessToken },
    );
    expect([changed.status, changed.body]).toEqual([200, expect.objectContaining({ id, events: ['user.enabled'], description: 'billing', enabled: false })]);

    const rotated = await t.http.post(`/admin/webhooks/${id}/secret`, undefined, { token: admin.accessToken });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toEqual({ secret: expect.stringMatching(/^whsec_/) });
    expect(rotated.body.secret).not.toBe(secret);

    // The audit log tells what happened, naming the endpoint by its origin: its query may hold the receiver's own key.
    const updatedEvent = await t.http.get('/admin/audit?type=webhook.updated', { token: admin.accessToken });
    expect(updatedEvent.body.items[0].data).toMatchObject({ id, enabled: false, changed: ['description', 'enabled', 'events'] });
    const audit = await t.http.get('/admin/audit?type=webhook.created', { token: admin.accessToken });
    expect(audit.body.items[0].data).toEqual({ id, origin: 'https://hooks.example.com', events: ['session.revoked', 'user.disabled'] });
    const trail = (await t.http.get('/admin/audit?take=100', { token: admin.accessToken })).text;
    expect(trail).not.toContain('key=abc');
    expect(trail).not.toContain(secret.slice(6));
    expect(trail).not.toContain(rotated.body.secret.slice(6));

    expect((await t.http.delete(`/admin/webhooks/${id}`, { token: admin.accessToken })).status).toBe(204);
    expect((await t.http.delete(`/admin/webhooks/${id}`, { token: admin.accessToken })).body.message).toBe('Webhook not found');
    expect((await t.http.get('/admin/webhooks', { token: admin.accessToken })).body.items).toEqual([]);
  });

  it.each([
    [{ events: ['session.revoked'] }, 'url is required'],
    [{ url: 'ftp://example.com/x', events: ['session.revoked'] }, 'url must be an http or https URL'],
    [{ url: 'https://example.com/x', events: [] }, 'events must be a non-empty list of'],
    [{ url: 'https://example.com/x', events: ['login.failed'] }, 'events must be a non-empty list of'],
    [{ url: 'https://example.com/x', events: 'session.revoked' }, 'events must be a non-empty list of'],
    [{ url: 'https://example.com/x', events: ['session.revoked'], description: 'a\u0007b' }, 'description must not contain control characters'],
  ])('refuses %j with a 400 that says why, and creates nothing', async (body, message) => {
    const res = await t.http.post('/admin/webhooks', body, { token: admin.accessToken });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toContain(message);
    expect((await t.http.get('/admin/webhooks', { token: admin.accessToken })).body.items).toEqual([]);
  });

  // What the delivery's `new URL()` cannot parse (an IPv6 zone id, no host, a space in the
  // host) or cannot send to (another scheme) is refused when it is given, not at each delivery.
  it.each(UNDELIVERABLE_URLS)('refuses the url %j on POST and on PATCH with a 400 that says why (never a 500), and stores nothing', async (url) => {
    const refused = { statusCode: 400, message: ['url must be an http or https URL'], error: 'Bad Request' };
    const created = await t.http.post('/admin/webhooks', { url, events: ['session.revoked'] }, { token: admin.accessToken });
    expect([created.status, created.body]).toEqual([400, refused]);
    expect((await t.http.get('/admin/webhooks', { token: admin.accessToken })).body.items).toEqual([]);

    const { id } = await createWebhook(t, admin, 'https://example.com/hook');
    const patched = await t.http.patch(`/admin/webhooks/${id}`, { url }, { token: admin.accessToken });
    expect([patched.status, patched.body]).toEqual([400, refused]);
    expect((await t.http.get('/admin/webhooks', { token: admin.accessToken })).body.items).toEqual([
      expect.objectContaining({ id, url: 'https://example.com/hook' }),
    ]);
    expect((await t.http.delete(`/admin/webhooks/${id}`, { token: admin.accessToken })).status).toBe(204);
  });

  it('answers 404 for an unknown webhook or delivery, and 401/403 to non-admins', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [method, path] of [
      ['PATCH', `/admin/webhooks/${unknown}`],
      ['POST', `/admin/webhooks/${unknown}/secret`],
      ['DELETE', `/admin/webhooks/${unknown}`],
      ['GET', `/admin/webhooks/${unknown}/deliveries`],
      ['POST', `/admin/webhooks/${unknown}/deliveries/1/retry`],
      ['GET', '/admin/webhooks/not-a-uuid/deliveries'],
    ]) {
      const res = await t.http.request(method, path, { token: admin.accessToken, body: method === 'PATCH' ? { enabled: true } : undefined });
      expect([method, path, res.status, res.body.message]).toEqual([method, path, 404, 'Webhook not found']);
    }
    const { id } = await createWebhook(t, admin, 'https://example.com/hook');
    for (const deliveryId of ['1', 'abc', '99999999999999999999']) {
      const res = await t.http.post(`/admin/webhooks/${id}/deliveries/${deliveryId}/retry`, undefined, { token: admin.accessToken });
      expect([res.status, res.body.message]).toEqual([404, 'Delivery not found']);
    }
    const user = await newUser(t.http);
    expect((await t.http.get('/admin/webhooks', { token: user.accessToken })).status).toBe(403);
    expect((await t.http.get('/admin/webhooks')).status).toBe(401);
  });
});

describe('webhooks: every listed event reaches a receiver, signed per Standard Webhooks', () => {
  const env: Record<string, string> = { ...ADMIN_ENV, ...ALLOW_LOOPBACK, RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const receiver = useReceiver();
  const t = useApp(env);

  it('delivers each of the eleven types with a valid signature, the audit event as data, and no secret in any body', async () => {
    const admin = await newAdmin(t.http);
    const { secret } = await createWebhook(t, admin, receiver.url('/all'));

    const user = await newUser(t.http); // user.registered
    const verifyMail = await smtp.nth(user.email, 'verify-email');
    expect((await t.http.post('/auth/email/verify', { token: linkIn(verifyMail, 'verify-email').token })).status).toBe(204); // email.verified
    const second = await newSession(t.http, user);
    expect((await t.http.post('/auth/logout', undefined, { token: second.accessToken })).status).toBe(204); // session.revoked
    const third = await newSession(t.http, user);
    const r1 = await t.http.post('/auth/refresh', { refreshToken: third.refreshToken });
    await t.http.post('/auth/refresh', { refreshToken: r1.body.refreshToken });
    expect((await t.http.post('/auth/refresh', { refreshToken: third.refreshToken })).status).toBe(401); // token.reuse_detected
    const newPassword = 'a brand new passphrase';
    expect((await t.http.post('/auth/password', { currentPassword: user.password, newPassword }, { token: user.accessToken })).status).toBe(204); // password.changed
    expect((await t.http.post('/auth/logout-all', undefined, { token: user.accessToken })).status).toBe(204); // user.logged_out_everywhere
    await newSession(t.http, { email: user.email, password: newPassword });
    expect((await t.http.post(`/admin/users/${user.id}/force-logout`, undefined, { token: admin.accessToken })).status).toBe(204); // user.force_logged_out
    expect((await t.http.patch(`/admin/users/${user.id}`, { role: 'ADMIN' }, { token: admin.accessToken })).status).toBe(200); // user.role_changed
    expect((await t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken })).status).toBe(200); // user.disabled
    expect((await t.http.patch(`/admin/users/${user.id}`, { disabled: false }, { token: admin.accessToken })).status).toBe(200); // user.enabled
    expect((await t.http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
    const resetMail = await smtp.nth(user.email, 'reset-password');
    const resetToken = linkIn(resetMail, 'reset-password').token;
    expect((await t.http.post('/auth/password/reset', { token: resetToken, newPassword: 'reset once more please' })).status).toBe(204); // password.reset

    const requests = await receiver.waitFor('/all', EVENT_TYPES.length);
    const payloads = requests.map((request) => verified(secret, request));
    expect(payloads.map((p) => p.type).sort()).toEqual([...EVENT_TYPES].sort());
    for (const [i, payload] of payloads.entries()) {
      expect(payload.data).toMatchObject({ type: payload.type, userId: user.id, createdAt: payload.timestamp });
      expect(requests[i].headers['webhook-id']).toBe(`msg_${String(payload.data.id)}`);
      expect(requests[i].headers['content-type']).toBe('application/json');
    }
    // What /admin/audit shows is what was sent, but for the emails the admin reads beside the ids.
    const audit = await t.http.get(`/admin/audit?userId=${user.id}&type=password.changed`, { token: admin.accessToken });
    const { userEmail, actorEmail, ...event } = audit.body.items[0];
    expect([userEmail, actorEmail]).toEqual([user.email, user.email]);
    expect(payloads.find((p) => p.type === 'password.changed')!.data).toEqual(event);
    const everything = requests.map((r) => r.body).join('\n');
    for (const secretValue of [
      user.password,
      newPassword,
      'reset once more please',
      resetToken,
      user.refreshToken,
      third.refreshToken,
      user.accessToken,
      secret.slice(6),
    ]) {
      expect(everything).not.toContain(secretValue);
    }
    expect(everything).not.toMatch(/\$argon2/);
    expect(t.server.logs()).not.toContain(secret.slice(6));
    // Events nobody subscribed to (a login, a refresh) were not sent.
    expect(requests).toHaveLength(EVENT_TYPES.length);
  });

  it('sends an endpoint only the types it subscribed to, and nothing while it is disabled', async () => {
    const admin = await newAdmin(t.http);
    const { id, secret } = await createWebhook(t, admin, receiver.url('/some'), ['user.disabled']);
    const user = await newUser(t.http);
    await t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken });
    await t.http.patch(`/admin/users/${user.id}`, { disabled: false }, { token: admin.accessToken });
    const [only] = await receiver.waitFor('/some');
    expect(verified(secret, only)).toMatchObject({ type: 'user.disabled', data: { userId: user.id } });

    await t.http.patch(`/admin/webhooks/${id}`, { enabled: false }, { token: admin.accessToken });
    await t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken });
    await t.http.patch(`/admin/webhooks/${id}`, { enabled: true, events: ['user.enabled'] }, { token: admin.accessToken });
    await t.http.patch(`/admin/users/${user.id}`, { disabled: false }, { token: admin.accessToken });
    await receiver.waitFor('/some', 2);
    expect(receiver.on('/some').map((r) => verified(secret, r).type)).toEqual(['user.disabled', 'user.enabled']);
    expect((await deliveries(t, admin, id)).map((d) => [d.eventType, d.status])).toEqual([
      ['user.enabled', 'delivered'],
      ['user.disabled', 'delivered'],
    ]);
  });
});

describe('webhooks: retries, failure, an admin retry, 410 Gone, secret rotation', () => {
  const receiver = useReceiver();
  const t = useApp({ ...ADMIN_ENV, ...ALLOW_LOOPBACK, OUTBOX_RETRY_SCHEDULE: '0,100ms,100ms' });
  let admin: TestUser;
  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  /** An event for the endpoint: a user logs out (session.revoked). */
  async function logout(): Promise<TestUser> {
    const user = await newUser(t.http);
    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    return user;
  }

  it('a receiver that fails twice then succeeds gets three attempts with one webhook-id, each verifiable', async () => {
    const { id, secret } = await createWebhook(t, admin, receiver.url('/flaky'), ['session.revoked']);
    receiver.script('/flaky', 500, 503);
    const user = await logout();
    const attempts = await receiver.waitFor('/flaky', 3);
    expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
    attempts.forEach((attempt) => expect(verified(secret, attempt)).toMatchObject({ type: 'session.revoked', data: { userId: user.id } }));
    await waitFor('delivered', async () => (await deliveries(t, admin, id))[0]?.status === 'delivered');
    expect((await deliveries(t, admin, id))[0]).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null, target: receiver.url('/flaky') });
  });

  it('one that keeps failing ends failed with its last error; an admin retry delivers it with the same webhook-id', async () => {
    const { id, secret } = await createWebhook(t, admin, receiver.url('/down'), ['session.revoked']);
    receiver.script('/down', 500, 500, 502);
    await logout();
    await waitFor('failed', async () => (await deliveries(t, admin, id))[0]?.status === 'failed');
    const [failed] = await deliveries(t, admin, id);
    expect(failed).toMatchObject({ attempts: 3, lastStatusCode: 502, lastError: 'Answered 502', nextAttemptAt: null });
    const outbox = await t.http.get('/admin/outbox?kind=webhook&status=failed', { token: admin.accessToken });
    expect(outbox.body.items).toEqual([expect.objectContaining({ id: failed.id, kind: 'webhook', target: receiver.url('/down') })]);

    const retried = await t.http.post(`/admin/webhooks/${id}/deliveries/${failed.id}/retry`, undefined, { token: admin.accessToken });
    expect(retried.status).toBe(202);
    await waitFor('delivered after the retry', async () => (await deliveries(t, admin, id))[0]?.status === 'delivered');
    const attempts = receiver.on('/down');
    expect(attempts).toHaveLength(4);
    expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
    expect(verified(secret, attempts[3]).type).toBe('session.revoked');
    expect((await t.http.get('/admin/audit?type=webhook.delivery_retried', { token: admin.accessToken })).body.items[0]).toMatchObject({
      actorId: admin.id,
      data: { id, deliveryId: failed.id },
    });
  });

  it('410 Gone disables the endpoint at once (no retry) until an admin enables it again', async () => {
    const { id } = await createWebhook(t, admin, receiver.url('/gone'), ['session.revoked']);
    receiver.script('/gone', 410);
    await logout();
    await waitFor('failed', async () => (await deliveries(t, admin, id))[0]?.status === 'failed');
    expect((await deliveries(t, admin, id))[0]).toMatchObject({ attempts: 1, lastStatusCode: 410, lastError: 'Answered 410 Gone: the webhook is disabled' });
    const listed = (await t.http.get('/admin/webhooks', { token: admin.accessToken })).body.items.find((w: { id: string }) => w.id === id);
    expect(listed).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^The endpoint answered 410 Gone on /) });
    await logout(); // nothing is written for a disabled endpoint
    expect(await deliveries(t, admin, id)).toHaveLength(1);

    const enabled = await t.http.patch(`/admin/webhooks/${id}`, { enabled: true }, { token: admin.accessToken });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
    await logout();
    await waitFor('the next event delivered', async () => (await deliveries(t, admin, id))[0]?.status === 'delivered');
    expect(receiver.on('/gone')).toHaveLength(2);
  });

  it('after a rotation, deliveries carry two signatures: receivers holding either secret verify them', async () => {
    const { id, secret: before } = await createWebhook(t, admin, receiver.url('/rotated'), ['session.revoked']);
    const { secret: after } = (await t.http.post(`/admin/webhooks/${id}/secret`, undefined, { token: admin.accessToken })).body;
    await logout();
    const [request] = await receiver.waitFor('/rotated');
    expect(String(request.headers['webhook-signature']).split(' ')).toEqual([expect.stringMatching(/^v1,/), expect.stringMatching(/^v1,/)]);
    expect(verified(before, request).type).toBe('session.revoked');
    expect(verified(after, request).type).toBe('session.revoked');
    expect(() => verified(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, request)).toThrow();
  });

  it('a redirect is not followed: the attempt fails and the other address gets nothing', async () => {
    const { id } = await createWebhook(t, admin, receiver.url('/moved'), ['session.revoked']);
    receiver.script('/moved', 307, 307, 307);
    receiver.answerHeaders = { location: receiver.url('/elsewhere') };
    try {
      await logout();
      await waitFor('failed', async () => (await deliveries(t, admin, id))[0]?.status === 'failed');
    } finally {
      receiver.answerHeaders = {};
    }
    expect((await deliveries(t, admin, id))[0]).toMatchObject({ lastStatusCode: 307, lastError: 'Answered 307 (a redirect: not followed)' });
    expect(receiver.on('/elsewhere')).toEqual([]);
  });

  it('a receiver that never answers holds up nothing: the logout answers, other endpoints get theirs, the attempt times out', async () => {
    const slow = await createWebhook(t, admin, receiver.url('/slow'), ['session.revoked']);
    const fast = await createWebhook(t, admin, receiver.url('/fast'), ['session.revoked']);
    receiver.script('/slow', 'hang');
    await logout();
    await receiver.waitFor('/fast');
    await waitFor('the fast endpoint delivered', async () => (await deliveries(t, admin, fast.id))[0]?.status === 'delivered');
    // A later event is delivered, to both endpoints, while the first attempt to the slow one still hangs: nothing waits for it.
    await logout();
    await receiver.waitFor('/fast', 2);
    await waitFor('the later event delivered to the slow endpoint', async () => (await deliveries(t, admin, slow.id))[0]?.status === 'delivered');
    expect((await deliveries(t, admin, slow.id)).map((d) => [d.status, d.attempts, d.lastError])).toEqual([
      ['delivered', 1, null],
      ['pending', 1, null],
    ]);
    await waitFor('the slow attempt timed out', async () => (await deliveries(t, admin, slow.id))[1]?.lastError === 'No answer within 10 s');
    // The next attempt (the schedule's 100 ms later) is answered: delivered.
    await waitFor('delivered on the next attempt', async () => (await deliveries(t, admin, slow.id))[1]?.status === 'delivered');
    expect(receiver.on('/slow')).toHaveLength(3);
  });
});

describe('webhooks: private networks are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS', () => {
  const receiver: Receiver = useReceiver();
  const t = useApp({ ...ADMIN_ENV });

  it('a loopback endpoint gets nothing; the delivery fails at once saying why', async () => {
    const admin = await newAdmin(t.http);
    const { id } = await createWebhook(t, admin, receiver.url('/private'), ['session.revoked']);
    const user = await newUser(t.http);
    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    await waitFor('failed', async () => (await deliveries(t, admin, id))[0]?.status === 'failed');
    expect((await deliveries(t, admin, id))[0]).toMatchObject({
      attempts: 1,
      lastStatusCode: null,
      lastError: 'Refused: 127.0.0.1 is a loopback, private, link-local or unspecified address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows private ones)',
    });
    expect(receiver.received).toEqual([]);
  });
});

describe('webhooks: what commits is sent, what rolls back is not; secrets survive an AUTH_SECRET rotation', () => {
  const receiver = useReceiver();
  const env = { ...ADMIN_ENV, ...ALLOW_LOOPBACK, AUTH_SECRET: 'first-server-secret-that-is-32-bytes-or-more' };
  const t = useApp(env);

  it('an event whose transaction rolls back writes no delivery; the next committed one is delivered', async () => {
    const admin = await newAdmin(t.http);
    const { id } = await createWebhook(t, admin, receiver.url('/tx'), ['user.disabled']);
    const user = await newUser(t.http);
    // The audit event and its outbox row are written, then the change fails: both go.
    const audit = t.server.app.get(AuditService);
    await expect(
      t.server.prisma.$transaction(async (tx) => {
        await audit.record(tx, { type: 'user.disabled', userId: user.id, actorId: admin.id });
        throw new Error('the change failed after its event was recorded');
      }),
    ).rejects.toThrow('the change failed');
    expect(await t.server.prisma.outboxDelivery.count({ where: { endpointId: id } })).toBe(0);
    expect((await t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken })).status).toBe(200);
    await receiver.waitFor('/tx');
    expect(await deliveries(t, admin, id)).toEqual([expect.objectContaining({ eventType: 'user.disabled' })]);
    expect(receiver.on('/tx')).toHaveLength(1);
  });

  it('keeps signing with the same secret through AUTH_SECRET → AUTH_SECRET_PREVIOUS and after the previous one is dropped', async () => {
    const admin = await newAdmin(t.http);
    const { secret } = await createWebhook(t, admin, receiver.url('/rotate-server-secret'), ['session.revoked']);
    const logout = async () => {
      const user = await newUser(t.http);
      await t.http.post('/auth/logout', undefined, { token: user.accessToken });
    };
    await t.restart({ ...env, AUTH_SECRET: 'second-server-secret-that-is-32-bytes-or-more', AUTH_SECRET_PREVIOUS: env.AUTH_SECRET });
    await t.restart({ ...env, AUTH_SECRET: 'second-server-secret-that-is-32-bytes-or-more' });
    await logout();
    const [request] = await receiver.waitFor('/rotate-server-secret');
    expect(verified(secret, request).type).toBe('session.revoked');
    expect(t.server.logs()).not.toContain('cannot be opened');
    expect(t.server.logs()).not.toContain(secret.slice(6));
  });
});
