import { createHash } from 'node:crypto';
import { ADMIN_ENV, newAdmin, newUser, type TestUser } from '../support/factories';
import { basic, openFeed } from '../support/sse';
import { useApp } from '../support/test-app';
import { UNDELIVERABLE_URLS } from '../support/undeliverable-urls';

/** API.md, "Services that accept our access tokens": clients, HTTP Basic, introspection, the feed. */
describe('relying parties: clients, introspection and the revocation feed', () => {
  const t = useApp({ ...ADMIN_ENV, TRUST_PROXY: 'true', RATE_LIMIT_LOGIN: '3' });
  let admin: TestUser;
  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  const createClient = async (name = 'billing') => {
    const res = await t.http.post('/admin/clients', { name }, { token: admin.accessToken });
    expect(res.status).toBe(201);
    return res.body as { id: string; clientId: string; clientSecret: string; name: string };
  };
  const introspect = (authorization: string | undefined, token: string, headers: Record<string, string> = {}) =>
    t.http.post('/auth/introspect', new URLSearchParams({ token }).toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}), ...headers },
    });

  describe('/admin/clients', () => {
    it('registers a service: the secret shown once (256 bits), stored only as its SHA-256, never listed, audited without it', async () => {
      const res = await t.http.post(
        '/admin/clients',
        { name: ' orders ', backchannelLogoutUri: 'https://orders.internal/logout' },
        { token: admin.accessToken },
      );
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'orders',
        clientId: expect.stringMatching(/^client_[A-Za-z0-9_-]{22}$/),
        clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        backchannelLogoutUri: 'https://orders.internal/logout',
        createdAt: expect.any(String),
      });
      const row = await t.server.prisma.serviceClient.findUniqueOrThrow({ where: { id: res.body.id } });
      expect(Buffer.from(row.secretHash).equals(createHash('sha256').update(res.body.clientSecret).digest())).toBe(true);

      const list = await t.http.get('/admin/clients', { token: admin.accessToken });
      expect(list.status).toBe(200);
      expect(list.body.items).toContainEqual({
        id: res.body.id,
        name: 'orders',
        clientId: res.body.clientId,
        backchannelLogoutUri: 'https://orders.internal/logout',
        createdAt: res.body.createdAt,
      });
      expect(list.text).not.toContain(res.body.clientSecret);
      expect(list.text).not.toMatch(/secret|hash/i);
      const audit = await t.http.get('/admin/audit?type=client.created', { token: admin.accessToken });
      expect(audit.body.items[0]).toMatchObject({ type: 'client.created', actorId: admin.id, data: { id: res.body.id, clientId: res.body.clientId } });
      expect(audit.text).not.toContain(res.body.clientSecret);
    });

    it('refuses bad input with 400 and a message, unknown ids with 404, non-admins with 403', async () => {
      const bad = await t.http.post('/admin/clients', { name: '', backchannelLogoutUri: 'javascript:alert(1)' }, { token: admin.accessToken });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toEqual(expect.arrayContaining(['name must be 1 to 100 characters', 'backchannelLogoutUri must be an http or https URL']));
      expect((await t.http.post('/admin/clients', {}, { token: admin.accessToken })).body.message).toEqual(['name is required']);
      const missing = '00000000-0000-4000-8000-000000000000';
      expect((await t.http.post(`/admin/clients/${missing}/secret`, undefined, { token: admin.accessToken })).status).toBe(404);
      expect((await t.http.delete(`/admin/clients/${missing}`, { token: admin.accessToken })).status).toBe(404);
      expect((await t.http.delete('/admin/clients/not-a-uuid', { token: admin.accessToken })).status).toBe(404);
      const user = await newUser(t.http);
      expect((await t.http.get('/admin/clients', { token: user.accessToken })).status).toBe(403);
      expect((await t.http.get('/admin/clients')).status).toBe(401);
    });

    // Every back-channel logout would fail on these: refused when the client is registered.
    it.each(UNDELIVERABLE_URLS)(
      'refuses the backchannelLogoutUri %j with a 400 that says why (never a 500), and registers nothing',
      async (backchannelLogoutUri) => {
        const before = (await t.http.get('/admin/clients', { token: admin.accessToken })).body.items;
        const res = await t.http.post('/admin/clients', { name: 'undeliverable', backchannelLogoutUri }, { token: admin.accessToken });
        expect([res.status, res.body]).toEqual([
          400,
          { statusCode: 400, message: ['backchannelLogoutUri must be an http or https URL'], error: 'Bad Request' },
        ]);
        expect((await t.http.get('/admin/clients', { token: admin.accessToken })).body.items).toEqual(before);
      },
    );

    it('rotates a secret: the new one works at once, the old one for 24 h, then not', async () => {
      const client = await createClient();
      const user = await newUser(t.http);
      const rotated = await t.http.post(`/admin/clients/${client.id}/secret`, undefined, { token: admin.accessToken });
      expect(rotated.status).toBe(201);
      expect(rotated.body).toEqual({ clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      expect((await introspect(basic(client.clientId, rotated.body.clientSecret), user.accessToken)).status).toBe(200);
      expect((await introspect(basic(client.clientId, client.clientSecret), user.accessToken)).status).toBe(200);
      const row = await t.server.prisma.serviceClient.findUniqueOrThrow({ where: { id: client.id } });
      expect(row.previousSecretExpiresAt!.getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);
      // The 24 hours are over.
      await t.server.prisma.serviceClient.update({ where: { id: client.id }, data: { previousSecretExpiresAt: new Date(Date.now() - 1000) } });
      expect((await introspect(basic(client.clientId, client.clientSecret), user.accessToken)).status).toBe(401);
      expect((await introspect(basic(client.clientId, rotated.body.clientSecret), user.accessToken)).status).toBe(200);
    });
  });

  describe('client authentication (HTTP Basic)', () => {
    it('refuses missing, malformed, wrong and deleted credentials with 401 and the Basic challenge, on introspection and the feed', async () => {
      const client = await createClient();
      const user = await newUser(t.http);
      const wrong = [
        undefined,
        'Basic',
        'Basic !!!',
        `Bearer ${user.accessToken}`,
        basic(client.clientId, 'wrong-secret'),
        basic('client_unknown', client.clientSecret),
        basic(client.clientId, client.clientSecret.slice(1)),
      ];
      // Each from its own address: these failures must not reach the rate limit.
      for (const [i, authorization] of wrong.entries()) {
        const res = await introspect(authorization, user.accessToken, { 'x-forwarded-for': `198.51.100.${i + 1}` });
        expect({ authorization, status: res.status, challenge: res.headers.get('www-authenticate') }).toEqual({
          authorization,
          status: 401,
          challenge: 'Basic realm="clients", charset="UTF-8"',
        });
        expect(res.body.message).toBe('Invalid client credentials');
        const feed = await openFeed(t.server.baseUrl, authorization ?? '', { 'x-forwarded-for': `198.51.100.${i + 1}` });
        expect({ authorization, status: feed.status }).toEqual({ authorization, status: 401 });
      }
      const good = basic(client.clientId, client.clientSecret);
      expect((await introspect(good, user.accessToken)).status).toBe(200);
      expect((await t.http.delete(`/admin/clients/${client.id}`, { token: admin.accessToken })).status).toBe(204);
      expect((await introspect(good, user.accessToken)).status).toBe(401);
      expect((await openFeed(t.server.baseUrl, good)).status).toBe(401);
    });

    it('limits failures per (address, client id): the stranger gets 429, the service elsewhere is not locked out; one audit event per window', async () => {
      const client = await createClient();
      const user = await newUser(t.http);
      const stranger = { 'x-forwarded-for': '203.0.113.66' };
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await introspect(basic(client.clientId, `guess-${i}`), user.accessToken, stranger)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const limited = await introspect(basic(client.clientId, 'guess'), user.accessToken, stranger);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // The real service, from its own address, is not affected.
      const service = await introspect(basic(client.clientId, client.clientSecret), user.accessToken, { 'x-forwarded-for': '10.0.0.5' });
      expect(service.status).toBe(200);
      const feed = await openFeed(t.server.baseUrl, basic(client.clientId, client.clientSecret), { 'x-forwarded-for': '10.0.0.5' });
      expect(feed.status).toBe(200);
      feed.close();

      const events = await t.server.prisma.auditEvent.findMany({ where: { type: 'client.auth_failed', ip: '203.0.113.66' } });
      expect(events).toHaveLength(1);
      expect(events[0].data).toMatchObject({ clientId: client.clientId, knownClient: true });
      expect(JSON.stringify(events.map((e) => e.data))).not.toMatch(/guess/);
    });
  });

  describe('POST /auth/introspect (RFC 7662)', () => {
    let client: { clientId: string; clientSecret: string };
    let auth: string;
    beforeAll(async () => {
      client = await createClient('introspector');
      auth = basic(client.clientId, client.clientSecret);
    });

    it('form-encoded or JSON: active with the claims and the current role; inactive once the session ends', async () => {
      const user = await newUser(t.http);
      const form = await introspect(auth, user.accessToken);
      expect(form.status).toBe(200);
      expect(form.headers.get('cache-control')).toBe('no-store');
      expect(form.body).toEqual({
        active: true,
        sub: user.id,
        sid: user.sessionId,
        role: 'USER',
        iat: expect.any(Number),
        exp: expect.any(Number),
        iss: t.server.config.auth.issuer,
        aud: t.server.config.auth.audience,
        jti: expect.any(String),
        auth_time: expect.any(Number),
        amr: ['pwd'],
        acr: 'aal1',
        token_type: 'access_token',
      });
      const json = await t.http.post('/auth/introspect', { token: user.accessToken }, { headers: { authorization: auth } });
      expect(json.body).toEqual(form.body);

      expect((await t.http.patch(`/admin/users/${user.id}`, { role: 'ADMIN' }, { token: admin.accessToken })).status).toBe(200);
      expect((await introspect(auth, user.accessToken)).body).toMatchObject({ active: true, role: 'ADMIN' });

      expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
      expect((await introspect(auth, user.accessToken)).body).toEqual({ active: false });
    });

    it('anything not a valid token of ours is inactive, without saying why', async () => {
      const user = await newUser(t.http);
      const [header, payload, signature] = user.accessToken.split('.');
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'ADMIN' })).toString('base64url')}.${signature}`;
      for (const token of ['garbage', 'a.b.c', tampered, user.refreshToken, 'x'.repeat(5000)]) {
        const res = await introspect(auth, token);
        expect({ token: token.slice(0, 20), status: res.status, body: res.body }).toEqual({ token: token.slice(0, 20), status: 200, body: { active: false } });
      }
    });

    it('400 without a token or with it twice; 415 for other media types; forms stay refused on every other route', async () => {
      expect(
        (await t.http.post('/auth/introspect', '', { headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' } })).body.message,
      ).toEqual(['token is required']);
      const twice = await t.http.post('/auth/introspect', 'token=a&token=b', {
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect([twice.status, twice.body.message]).toEqual([400, ['token must be a string (sent once)']]);
      expect((await t.http.post('/auth/introspect', 'token=a', { headers: { authorization: auth, 'content-type': 'text/plain' } })).status).toBe(415);
      const login = await t.http.post('/auth/login', 'email=a%40b.c&password=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(login.status).toBe(415);
    });

    it('400 for an empty token, form-encoded or JSON, as for a missing one (RFC 7662 §2.1: token is REQUIRED); a real token still works', async () => {
      const required = { statusCode: 400, message: ['token is required'], error: 'Bad Request' };
      const form = { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' };
      for (const body of ['token=', 'token', 'token=&token_type_hint=access_token']) {
        const res = await t.http.post('/auth/introspect', body, { headers: form });
        expect({ body, status: res.status, answer: res.body }).toEqual({ body, status: 400, answer: required });
      }
      const json = await t.http.post('/auth/introspect', { token: '' }, { headers: { authorization: auth } });
      expect([json.status, json.body]).toEqual([400, required]);

      const user = await newUser(t.http);
      expect((await introspect(auth, user.accessToken)).body).toMatchObject({ active: true, sub: user.id });
      const viaJson = await t.http.post('/auth/introspect', { token: user.accessToken }, { headers: { authorization: auth } });
      expect(viaJson.body).toMatchObject({ active: true, sub: user.id });
    });
  });

  describe('GET /auth/revocations', () => {
    it('replays the window, sends ready, then live events and heartbeats; a deleted client’s feed closes at once', async () => {
      const ended = await newUser(t.http);
      expect((await t.http.post('/auth/logout', undefined, { token: ended.accessToken })).status).toBe(204);
      const client = await createClient('feed');
      const feed = await openFeed(t.server.baseUrl, basic(client.clientId, client.clientSecret));
      expect(feed.status).toBe(200);
      expect(feed.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(feed.headers.get('cache-control')).toBe('no-store');
      expect(feed.headers.get('x-accel-buffering')).toBe('no');

      const ready = await feed.next((m) => m.event === 'ready');
      expect(ready.data).toEqual({ windowMs: t.server.config.auth.accessTokenTtl * 1000 + 5000, at: expect.any(Number) });
      const replayed = feed.messages.slice(0, feed.messages.indexOf(ready));
      expect(replayed).toContainEqual({
        event: 'session.ended',
        id: expect.stringMatching(/^\d+$/),
        data: { userId: ended.id, sessionId: ended.sessionId, at: expect.any(Number) },
      });
      expect(replayed.every((m) => m.event !== 'heartbeat')).toBe(true);

      // Live: the logout of another user, after ready.
      const user = await newUser(t.http);
      const from = feed.messages.length;
      expect((await t.http.post('/auth/logout-all', undefined, { token: user.accessToken })).status).toBe(204);
      const live = await feed.next((m) => m.event === 'user.tokens_revoked' && m.data.userId === user.id, from);
      expect(live.data).toEqual({ userId: user.id, refreshTokenVersion: 1, at: expect.any(Number) });
      // Heartbeats certify times that catch up with the event (each one: everything committed before `at` was sent).
      await feed.next((m) => m.event === 'heartbeat' && m.data.at >= live.data.at, feed.messages.indexOf(live));
      // A role change, as its own event.
      await t.http.patch(`/admin/users/${user.id}`, { role: 'ADMIN' }, { token: admin.accessToken });
      expect((await feed.next((m) => m.event === 'user.role_changed' && m.data.userId === user.id)).data).toEqual({
        userId: user.id,
        role: 'ADMIN',
        at: expect.any(Number),
      });

      expect((await t.http.delete(`/admin/clients/${client.id}`, { token: admin.accessToken })).status).toBe(204);
      await feed.ended;
    });

    it('caps the open feeds of one client (429), and a closed one frees its place', async () => {
      const client = await createClient('greedy');
      const auth = basic(client.clientId, client.clientSecret);
      const feeds = [];
      for (let i = 0; i < 16; i++) feeds.push(await openFeed(t.server.baseUrl, auth));
      expect(feeds.map((f) => f.status)).toEqual(Array(16).fill(200));
      const extra = await openFeed(t.server.baseUrl, auth);
      expect(extra.status).toBe(429);
      feeds.pop()!.close();
      let again = await openFeed(t.server.baseUrl, auth);
      // The server notices the closed socket on its next write (a heartbeat).
      for (let i = 0; again.status === 429 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        again = await openFeed(t.server.baseUrl, auth);
      }
      expect(again.status).toBe(200);
      [...feeds, again].forEach((f) => f.close());
    });

    it('open streams do not hold up a graceful shutdown: they end, and the app closes', async () => {
      const client = await createClient('shutdown');
      const feed = await openFeed(t.server.baseUrl, basic(client.clientId, client.clientSecret));
      await feed.next((m) => m.event === 'ready');
      await t.restart();
      await feed.ended;
      expect((await t.http.get('/health')).status).toBe(200);
      admin = await newAdmin(t.http);
    });
  });
});
