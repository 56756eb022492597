import { highSTwin } from '../security/support';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { CountingProxy } from '../support/counting-proxy';
import { ExampleProcess } from '../support/example-process';
import { Http } from '../support/http';
import { basic, openFeed } from '../support/sse';
import { SERVER_APP_URL, ServerBuild, ServerProcess } from '../support/server-process';
import { createTestDatabase, dbKind, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

/**
 * examples/protected-service, a NestJS service of its own that uses @nest-auth-backend/client,
 * run as a process beside the auth server (on PostgreSQL: two auth instances, changes made
 * on A, the service fed by B). Every request from the service to the auth server goes
 * through a counting proxy. The delay from the auth server's response to the service's
 * first refusal is measured and reported; what is asserted is the order (never a 200
 * after the first refusal), not a time.
 */
describe('examples/protected-service: revocations reach another service, with no call per request', () => {
  let db: TestDatabase;
  let build: ServerBuild;
  let writer: ServerProcess;
  let feeder: ServerProcess;
  let proxy: CountingProxy;
  let example: ExampleProcess;
  let auth: Http;
  let service: Http;
  let admin: TestUser;
  /** The example's settings, as its examples/README.md section gives them. */
  let settings: Record<string, string>;
  const delays: Array<{ change: string; ms: number }> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    build = ServerBuild.create();
    writer = await ServerProcess.start(build, db, ADMIN_ENV);
    feeder = dbKind() === 'postgres' ? await ServerProcess.start(build, db) : writer;
    auth = new Http(writer.baseUrl);
    admin = await newAdmin(auth);
    const client = await auth.post('/admin/clients', { name: 'protected-service' }, { token: admin.accessToken });
    proxy = await CountingProxy.start(feeder.baseUrl);
    settings = {
      AUTH_ISSUER: SERVER_APP_URL,
      AUTH_SERVER_URL: proxy.url,
      AUTH_CLIENT_ID: client.body.clientId,
      AUTH_CLIENT_SECRET: client.body.clientSecret,
      AUTH_MAX_STALENESS_MS: '1000',
    };
    example = await ExampleProcess.start(settings);
    service = new Http(example.baseUrl);
    await waitFor('the service’s revocation feed to be live', async () => (await service.get('/health')).body.revocations === 'live');
  }, 240_000);

  afterAll(async () => {
    if (delays.length > 0) {
      console.log(
        `Delay from the auth server's response to the service's first refusal (${dbKind()}):\n${delays.map((d) => `  ${d.change}: ${d.ms} ms`).join('\n')}`,
      );
    }
    await example?.stop();
    await proxy?.close();
    await ServerProcess.killAll();
    build?.remove();
    await db?.drop();
  });

  const whoami = (token: string) => service.get('/whoami', { token });

  /** Asks the service until `refused` says so, records the delay, then checks it never accepts again. */
  async function refusedAfter(
    change: string,
    respondedAt: number,
    token: string,
    refused: (status: number, body: any) => boolean = (status) => status === 401,
  ) {
    const answers: number[] = [];
    let firstRefusalAt = 0;
    await waitFor(
      `the service to refuse after ${change}`,
      async () => {
        const res = await whoami(token);
        answers.push(res.status);
        if (!refused(res.status, res.body)) return false;
        firstRefusalAt = Date.now();
        return true;
      },
      { attempts: 2000, everyMs: 1 },
    );
    delays.push({ change, ms: firstRefusalAt - respondedAt });
    for (let i = 0; i < 10; i++) {
      const res = await whoami(token);
      expect({ change, refused: refused(res.status, res.body) }).toEqual({ change, refused: true });
    }
    // Before the first refusal only acceptances: nothing in between (no 5xx).
    expect(answers.slice(0, -1).every((s) => s === 200)).toBe(true);
  }

  it('serves the protected route with no call to the auth server per authenticated request', async () => {
    const user = await newUser(auth);
    expect((await whoami(user.accessToken)).body).toEqual({ id: user.id, sessionId: user.sessionId, role: 'USER' });
    const before = proxy.requests.length;
    for (let i = 0; i < 100; i++) expect((await whoami(user.accessToken)).status).toBe(200);
    expect(proxy.requests.slice(before)).toEqual([]);
    expect(proxy.count(/introspect/)).toBe(0);
    const anonymous = await service.get('/whoami');
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    expect((await whoami('garbage')).status).toBe(401);
    // The high-s twin of the token's ES256 signature verifies, but is not how the server writes it.
    expect((await whoami(highSTwin(user.accessToken))).status).toBe(401);
    expect((await whoami(user.accessToken)).status).toBe(200);
  });

  it('refuses at once what the auth server ended: logout, logout-all, force-logout, password change, disabling; re-roles a role change', async () => {
    const user = await newUser(auth);
    const logoutAll = await newSession(auth, user);
    const forced = await newSession(auth, user);
    const introspectionsBefore = proxy.count(/introspect/);

    expect((await whoami(user.accessToken)).status).toBe(200);
    expect((await auth.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    await refusedAfter('logout', Date.now(), user.accessToken);

    expect((await whoami(logoutAll.accessToken)).status).toBe(200);
    expect((await auth.post('/auth/logout-all', undefined, { token: logoutAll.accessToken })).status).toBe(204);
    await refusedAfter('logout-all', Date.now(), logoutAll.accessToken);
    expect((await whoami(forced.accessToken)).status).toBe(401);

    const target = await newUser(auth);
    expect((await whoami(target.accessToken)).status).toBe(200);
    expect((await auth.post(`/admin/users/${target.id}/force-logout`, undefined, { token: admin.accessToken })).status).toBe(204);
    await refusedAfter('force-logout', Date.now(), target.accessToken);

    const changer = await newUser(auth);
    const other = await newSession(auth, changer);
    expect((await whoami(other.accessToken)).status).toBe(200);
    const changed = await auth.post('/auth/password', { currentPassword: changer.password, newPassword: 'a-new-passphrase-2' }, { token: changer.accessToken });
    expect(changed.status).toBe(204);
    await refusedAfter('password change', Date.now(), other.accessToken);
    expect((await whoami(changer.accessToken)).status).toBe(200);

    const disabled = await newUser(auth);
    expect((await whoami(disabled.accessToken)).status).toBe(200);
    expect((await auth.patch(`/admin/users/${disabled.id}`, { disabled: true }, { token: admin.accessToken })).status).toBe(200);
    await refusedAfter('disabling', Date.now(), disabled.accessToken);

    const promoted = await newUser(auth);
    expect((await whoami(promoted.accessToken)).body.role).toBe('USER');
    expect((await auth.patch(`/admin/users/${promoted.id}`, { role: 'ADMIN' }, { token: admin.accessToken })).status).toBe(200);
    await refusedAfter('role change (re-roled)', Date.now(), promoted.accessToken, (status, body) => status === 200 && body.role === 'ADMIN');

    // All of it from the feed: not one introspection.
    expect(proxy.count(/introspect/)).toBe(introspectionsBefore);
  });

  for (const fault of ['silenced', 'closed'] as const) {
    it(`falls back to introspection when the feed is ${fault}, refuses what ends meanwhile, and stops introspecting once the feed is ready again`, async () => {
      const user = await newUser(auth);
      const bystander = await newUser(auth);
      if (fault === 'silenced') proxy.silenceFeeds();
      else proxy.closeFeeds();
      await waitFor('the service to stop trusting its memory', async () => (await service.get('/health')).body.revocations === 'introspecting');
      // What Prometheus sees (deploy/prometheus/alerts.yml: AuthClientRevocationFeedNotLive).
      expect((await service.get('/metrics')).text).toMatch(/^auth_client_revocation_feed_live 0$/m);

      // Every request is introspected now.
      const before = proxy.count(/POST \/auth\/introspect/);
      for (let i = 0; i < 5; i++) expect((await whoami(bystander.accessToken)).status).toBe(200);
      expect(proxy.count(/POST \/auth\/introspect/)).toBe(before + 5);

      expect((await auth.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
      await refusedAfter(`logout while the feed is ${fault} (introspection)`, Date.now(), user.accessToken);

      proxy.restoreFeeds();
      await waitFor('the feed to be ready again', async () => (await service.get('/health')).body.revocations === 'live');
      const metrics = (await service.get('/metrics')).text;
      expect(metrics).toMatch(/^auth_client_revocation_feed_live 1$/m);
      const after = proxy.count(/POST \/auth\/introspect/);
      for (let i = 0; i < 5; i++) expect((await whoami(bystander.accessToken)).status).toBe(200);
      expect(proxy.count(/POST \/auth\/introspect/)).toBe(after);
      expect((await whoami(user.accessToken)).status).toBe(401);
    });
  }

  it('closes a deleted client’s feeds on every instance (deleted on A, the feed open on B)', async () => {
    const other = await auth.post('/admin/clients', { name: 'short-lived' }, { token: admin.accessToken });
    const feed = await openFeed(feeder.baseUrl, basic(other.body.clientId, other.body.clientSecret));
    await feed.next((m) => m.event === 'ready');
    expect((await auth.delete(`/admin/clients/${other.body.id}`, { token: admin.accessToken })).status).toBe(204);
    await feed.ended;
    expect((await openFeed(feeder.baseUrl, basic(other.body.clientId, other.body.clientSecret))).status).toBe(401);
  });

  describe('says why it refuses a token of the auth server: once per reason, never the token', () => {
    /** Lines of the output that hold every one of `parts`. */
    const linesWith = (output: string, ...parts: string[]) => output.split('\n').filter((line) => parts.every((part) => line.includes(part)));

    it.each([
      ['issuer', { AUTH_ISSUER: 'http://wrong-issuer.test' }, 'http://wrong-issuer.test', SERVER_APP_URL],
      ['audience', { AUTH_AUDIENCE: 'wrong-audience' }, 'wrong-audience', 'nest-auth-backend'],
    ])('a wrong %s: 401, and one line naming what was expected and what the token holds', async (what, wrong, expected, found) => {
      const user = await newUser(auth);
      const other = await newUser(auth);
      // Its own process, fed by B directly (the counting proxy stays the main example's).
      const misconfigured = await ExampleProcess.start({ ...settings, AUTH_SERVER_URL: feeder.baseUrl, ...wrong });
      try {
        const http = new Http(misconfigured.baseUrl);
        for (const token of [user.accessToken, other.accessToken, user.accessToken, other.accessToken, user.accessToken]) {
          expect((await http.get('/whoami', { token })).status).toBe(401);
        }
        const output = misconfigured.logs();
        expect(linesWith(output, what, expected, found)).toHaveLength(1);
        expect(output).not.toContain(user.accessToken);
        expect(output).not.toContain(user.accessToken.split('.')[2]);
      } finally {
        await misconfigured.stop();
      }
    });

    it('tokens signed by a key the auth server does not publish (unknown kid): one line, however many', async () => {
      const [header, payload, signature] = (await newUser(auth)).accessToken.split('.');
      const kidOf = (h: string) => JSON.parse(Buffer.from(h, 'base64url').toString()).kid as string;
      const before = linesWith(example.logs(), 'does not publish').length;
      for (let i = 0; i < 20; i++) {
        const forged = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: `${kidOf(header).slice(0, 20)}${i}` })).toString('base64url');
        expect((await whoami(`${forged}.${payload}.${signature}`)).status).toBe(401);
      }
      expect(linesWith(example.logs(), 'does not publish').length - before).toBe(1);
      expect(example.logs()).not.toContain(payload);
    });

    it('a forged token (a bad signature, the high-s twin, garbage) is not a configuration problem: nothing logged', async () => {
      const token = (await newUser(auth)).accessToken;
      const [header, payload] = token.split('.');
      const before = example.logs();
      for (const forged of ['garbage', `${header}.${payload}.${'A'.repeat(86)}`, highSTwin(token)]) expect((await whoami(forged)).status).toBe(401);
      expect(example.logs()).toBe(before);
    });
  });

  describe('a missing or unusable setting stops the start with one line naming it, no stack trace', () => {
    it.each([
      ['AUTH_ISSUER missing', 'AUTH_ISSUER', { AUTH_ISSUER: '' }],
      ['AUTH_CLIENT_SECRET missing', 'AUTH_CLIENT_SECRET', { AUTH_CLIENT_SECRET: '' }],
      ['AUTH_SERVER_URL without its scheme', 'serverUrl', { AUTH_SERVER_URL: 'auth.internal:3000' }],
      ['AUTH_MAX_STALENESS_MS not a number', 'maxStalenessMs', { AUTH_MAX_STALENESS_MS: 'soon' }],
    ])('%s: exit 1, one line naming %s', async (_, named, bad) => {
      const { code, output } = await ExampleProcess.run({ ...settings, ...bad });
      expect(code).toBe(1);
      const lines = output.trim().split('\n');
      expect({ lines: lines.length, named: lines[0].includes(named), stack: /\n\s+at /.test(output) }).toEqual({ lines: 1, named: true, stack: false });
      expect(output).not.toContain(settings.AUTH_CLIENT_SECRET);
    });
  });

  it('answers 503 once neither the feed nor the auth server can tell, and never accepts a revoked token', async () => {
    const user = await newUser(auth);
    const revoked = await newSession(auth, user);
    expect((await auth.post('/auth/logout', undefined, { token: revoked.accessToken })).status).toBe(204);
    await refusedAfter('logout (before the outage)', Date.now(), revoked.accessToken);
    expect((await whoami(user.accessToken)).status).toBe(200);

    await feeder.stop();
    await waitFor('the service to answer 503', async () => (await whoami(user.accessToken)).status === 503);
    const res = await whoami(user.accessToken);
    expect([res.status, res.body.message]).toEqual([503, 'Auth server unreachable']);
    expect((await whoami(revoked.accessToken)).status).toBe(401);
  });
});
