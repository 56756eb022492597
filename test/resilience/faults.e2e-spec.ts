import { randomBytes, randomUUID } from 'node:crypto';
import { RevocationService } from '../../src/auth/revocation/revocation.service';
import { hashRefreshToken } from '../../src/auth/tokens/refresh-token';
import { inspectDatabase, integrityViolations, sessionFacts } from '../support/db-inspect';
import { newSession, newUser, type TestUser } from '../support/factories';
import { Http, type HttpResponse } from '../support/http';
import { KeepAliveClient, type RawResponse } from '../support/keep-alive-client';
import { ServerBuild, ServerProcess, type Exit } from '../support/server-process';
import { TcpProxy } from '../support/tcp-proxy';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { waitFor, within } from '../support/wait';

/** What every route answers while the database cannot be reached (API.md: /health; the rest: the global filter). */
const DATABASE_UNAVAILABLE = { statusCode: 503, message: 'Database unavailable', error: 'Service Unavailable' };
const HEALTH_DOWN = { status: 'error', database: 'down' };

const newIp = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0] % 250)}`;
const newEmail = () => `fault-${randomBytes(5).toString('hex')}@example.com`;

/** What a client sees of an answer given while the database is unreachable. */
const seen = (route: string, res: HttpResponse) => ({
  route,
  status: res.status,
  body: res.body,
  // Internals (stack frames, driver messages) and issued tokens must not leak.
  leaks: /\bat .+:\d+:\d+|prisma|ECONNREFUSED|ECONNRESET|Connection terminated|refreshToken|accessToken/i.test(res.text),
  setsCookie: res.headers.getSetCookie().length > 0,
});
/**
 * Routes answered from the configuration, before any database: the providers' list (none
 * configured here) and, for a provider the configuration does not have, the start and the
 * callback of a sign-in at it (404).
 */
const FROM_CONFIGURATION: Record<string, { status: number; body: unknown }> = {
  'GET /auth/providers': { status: 200, body: { items: [] } },
  'GET /auth/oidc/{provider}/start': { status: 404, body: { statusCode: 404, message: 'Unknown provider', error: 'Not Found' } },
  'GET /auth/oidc/{provider}/callback': { status: 404, body: { statusCode: 404, message: 'Unknown provider', error: 'Not Found' } },
};
const unavailable = (route: string) => ({
  route,
  status: 503,
  body: route === 'GET /health' ? HEALTH_DOWN : DATABASE_UNAVAILABLE,
  leaks: false,
  setsCookie: false,
});

/**
 * A database outage, for real: the app talks to PostgreSQL through a TCP proxy that the
 * spec cuts (every connection reset, new ones refused) and restores, without restarting
 * the app. The PostgreSQL server is shared by every spec, so it is never stopped itself.
 *
 * PGlite runs inside the app's process: it cannot become unreachable while the app runs,
 * so there is no outage to simulate there and this part runs on PostgreSQL only.
 */
describeOnPostgres('database outage: 503 while the database is unreachable, recovery without restart', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let server: TestApp;
  let http: Http;
  let user: TestUser;
  /** Sessions this describe's clients opened (logins and registrations that succeeded). */
  let sessionsOpened = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    const direct = new URL(db.env.DATABASE_URL!);
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
    server = await startApp(db, { DATABASE_URL: proxy.rewrite(db.env.DATABASE_URL!), TRUST_PROXY: 'true' });
    http = new Http(server.baseUrl);
    user = await newUser(http);
    sessionsOpened++;
  });
  afterAll(async () => {
    await proxy?.restore();
    await server?.close();
    await proxy?.close();
    await db?.drop();
  });

  const revocationIsLive = () => server.app.get(RevocationService).isLive;
  const counts = () =>
    inspectDatabase(db, (sql) =>
      sql.query<Record<string, number>>(`SELECT
        (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM sessions) AS sessions,
        (SELECT count(*)::int FROM rotated_refresh_tokens) AS rotated, (SELECT count(*)::int FROM audit_events) AS audit,
        (SELECT count(*)::int FROM revocation_events) AS revocations`),
    );

  it('answers 503 on every route but the JWKS, including GET /auth/me with a valid token, and writes nothing', async () => {
    const docs = await http.get('/docs-json');
    const before = await counts();

    await proxy.cut();
    // The revocation listener has lost its connection: from now on every access token is
    // checked against the database (another instance may be revoking while we are deaf).
    await waitFor('the revocation listener to notice the outage', () => !revocationIsLive());

    const ip = newIp();
    const bodies: Record<string, unknown> = {
      'POST /auth/login': { email: user.email, password: user.password },
      'POST /auth/register': { email: newEmail(), password: 'a long enough password' },
      'POST /auth/refresh': { refreshToken: user.refreshToken },
      'POST /auth/revoke': { refreshToken: user.refreshToken },
      'POST /auth/password': { currentPassword: user.password, newPassword: 'another long password' },
      // A link token of the right shape: whether it is one is the database's to say.
      'POST /auth/password/reset': { token: randomBytes(32).toString('base64url'), newPassword: 'another long password' },
      'POST /auth/email/verify': { token: randomBytes(32).toString('base64url') },
      'POST /auth/login/mfa': { mfaToken: randomBytes(32).toString('base64url'), method: 'totp', code: '123456' },
      // An assertion naming a credential: whose it is, is the database's to say.
      'POST /auth/passkeys/authentication': { challengeId: randomBytes(32).toString('base64url'), response: { id: randomBytes(16).toString('base64url') } },
      'POST /auth/login/mfa/passkey-options': { mfaToken: randomBytes(32).toString('base64url') },
      'POST /auth/email/change': { newEmail: newEmail() },
      'POST /auth/email/change/confirm': { token: randomBytes(32).toString('base64url') },
      'POST /auth/invitations/accept': { token: randomBytes(32).toString('base64url'), password: 'a long enough password' },
      'POST /admin/invitations': { email: newEmail() },
    };
    const routes = Object.entries(docs.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(expect.arrayContaining(['POST /auth/login', 'POST /auth/register', 'POST /auth/refresh', 'GET /auth/me', 'GET /health']));
    const answers = [];
    for (const route of routes) {
      const [method, path] = route.split(' ');
      const res = await http.request(method, path.replace(/\{[^}]+\}/g, randomUUID()), {
        token: user.accessToken,
        headers: { 'x-forwarded-for': ip },
        body: bodies[route],
      });
      answers.push(seen(route, res));
    }
    // GET /auth/me among them: the token's signature needs no database, but whether its
    // session is still alive does while revocations cannot be heard. Failing closed with
    // 503 (not 401, which tells a client to throw its tokens away) is the right answer.
    // The JWKS is the exception: the public keys are in memory, so relying parties keep
    // verifying tokens while this server's database is away.
    expect(routes).toContain('GET /.well-known/jwks.json');
    expect(answers).toEqual(
      routes.map((route) =>
        route === 'GET /.well-known/jwks.json'
          ? { route, status: 200, body: { keys: [expect.objectContaining({ kid: expect.any(String) })] }, leaks: false, setsCookie: false }
          : FROM_CONFIGURATION[route]
            ? { route, ...FROM_CONFIGURATION[route], leaks: false, setsCookie: false }
            : unavailable(route),
      ),
    );

    // Without credentials a protected route is 401 whether or not the database is there.
    expect((await http.get('/auth/me')).status).toBe(401);
    // Nothing was written while the database was away (checked on a direct connection).
    expect(await counts()).toEqual(before);
  });

  it('recovers without a restart once the database is back: the old refresh token, new logins and registrations work', async () => {
    await proxy.restore();
    await waitFor('GET /health to answer 200', async () => (await http.get('/health')).status === 200);

    const login = await http.post('/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    sessionsOpened++;
    const refreshed = await http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.sessionId).toBe(user.sessionId);
    expect((await http.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
    expect((await http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    const registered = await http.post('/auth/register', { email: newEmail(), password: 'a long enough password' });
    expect(registered.status).toBe(201);
    sessionsOpened++;
    user = { ...user, refreshToken: refreshed.body.refreshToken, accessToken: refreshed.body.accessToken };

    await inspectDatabase(db, async (sql) => {
      expect(await integrityViolations(sql)).toEqual([]);
      expect(await sessionFacts(sql)).toHaveLength(sessionsOpened);
    });
    // Revocations are heard again (the listener reconnects on its own).
    await waitFor('the revocation listener to reconnect', revocationIsLive, { attempts: 150, everyMs: 200 });
  });

  it('leaves nothing half-written when the database goes away in the middle of a burst of logins, registrations and refreshes', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => newUser(http)));
    sessionsOpened += users.length;
    const sessions = await Promise.all(users.flatMap((u) => [newSession(http, u), newSession(http, u)]));
    sessionsOpened += sessions.length;

    type Sent = { kind: 'login' | 'register'; email: string; password: string } | { kind: 'refresh'; refreshToken: string; sessionId: string };
    const sends: Sent[] = [
      ...users.flatMap((u) => Array.from({ length: 4 }, () => ({ kind: 'login' as const, email: u.email, password: u.password }))),
      ...Array.from({ length: 10 }, () => ({ kind: 'register' as const, email: newEmail(), password: 'a long enough password' })),
      ...sessions.map((s) => ({ kind: 'refresh' as const, refreshToken: s.refreshToken, sessionId: s.sessionId })),
    ];
    let answered = 0;
    let cut: Promise<void> | undefined;
    const results = await Promise.all(
      sends.map(async (sent) => {
        const headers = { 'x-forwarded-for': newIp() };
        const res =
          sent.kind === 'refresh'
            ? await http.post('/auth/refresh', { refreshToken: sent.refreshToken }, { headers })
            : await http.post(`/auth/${sent.kind}`, { email: sent.email, password: sent.password }, { headers });
        // The outage starts once a quarter of the burst has been answered.
        if (++answered === Math.ceil(sends.length / 4)) cut = proxy.cut();
        return { sent, res };
      }),
    );
    await cut;
    await proxy.restore();
    await waitFor('GET /health to answer 200', async () => (await http.get('/health')).status === 200);

    // Each request either succeeded or was told the database is unavailable.
    const failures = results.filter((r) => ![200, 201].includes(r.res.status)).map((r) => seen(`POST /auth/${r.sent.kind}`, r.res));
    expect(failures).toEqual(failures.map((f) => unavailable(f.route)));
    const succeeded = results.filter((r) => r.res.status !== 503);
    const failed = results.filter((r) => r.res.status === 503);
    expect(failed.length).toBeGreaterThan(0); // the cut did land in the middle of the burst
    expect(succeeded.length).toBeGreaterThan(0);

    const facts = await inspectDatabase(db, async (sql) => {
      expect(await integrityViolations(sql)).toEqual([]);
      return sessionFacts(sql);
    });
    // Every token a client received belongs to a session that exists, as its current token.
    for (const { res } of succeeded) {
      const session = facts.find((s) => s.id === res.body.sessionId);
      expect(session?.refresh_token_hash).toBe(hashRefreshToken(res.body.refreshToken));
    }
    // A session was opened for every login and registration that succeeded; one whose
    // 503 came from losing the reply to COMMIT (not the transaction) may exist too.
    const opened = succeeded.filter((r) => r.sent.kind !== 'refresh').length;
    const openFailures = failed.filter((r) => r.sent.kind !== 'refresh').length;
    expect(facts.length).toBeGreaterThanOrEqual(sessionsOpened + opened);
    expect(facts.length).toBeLessThanOrEqual(sessionsOpened + opened + openFailures);
    sessionsOpened = facts.length;

    // What the clients would do next works: the new tokens, and a retry of every refresh
    // that failed (its rotation either never happened, or is within the grace window).
    for (const { sent, res } of results) {
      if (sent.kind === 'refresh' && res.status === 503) {
        const retry = await http.post('/auth/refresh', { refreshToken: sent.refreshToken }, { headers: { 'x-forwarded-for': newIp() } });
        expect(retry.status).toBe(200);
        expect(retry.body.sessionId).toBe(sent.sessionId);
      }
      if (res.status !== 503) {
        const next = await http.post('/auth/refresh', { refreshToken: res.body.refreshToken }, { headers: { 'x-forwarded-for': newIp() } });
        expect(next.status).toBe(200);
      }
    }
    for (const { sent } of failed) {
      if (sent.kind === 'register') {
        // Either the account was never created, or it was created whole: registering
        // again is 201 or 409, and logging in works afterwards in both cases.
        const again = await http.post('/auth/register', { email: sent.email, password: sent.password });
        expect([201, 409]).toContain(again.status);
        expect((await http.post('/auth/login', { email: sent.email, password: sent.password })).status).toBe(200);
      }
    }
    await inspectDatabase(db, async (sql) => expect(await integrityViolations(sql)).toEqual([]));
  });

  it('answers 503 rather than never when the database host stops answering, and recovers when it is back', async () => {
    // Connections are accepted and then ignored, as packets to a dead host are dropped.
    await proxy.blackhole();
    const ip = newIp();
    const requests: Array<[string, () => Promise<HttpResponse>]> = [
      ['GET /health', () => http.get('/health')],
      ['POST /auth/login', () => http.post('/auth/login', { email: user.email, password: user.password }, { headers: { 'x-forwarded-for': ip } })],
      ['POST /auth/register', () => http.post('/auth/register', { email: newEmail(), password: 'a long enough password' })],
      ['POST /auth/refresh', () => http.post('/auth/refresh', { refreshToken: user.refreshToken }, { headers: { 'x-forwarded-for': ip } })],
      ['GET /auth/me', () => http.get('/auth/me', { token: user.accessToken })],
    ];
    // The bound is for the test only (the app gives up on a connection after 5 s).
    const answers = await within(
      Promise.all(requests.map(async ([route, send]) => seen(route, await send()))),
      30_000,
      'no answer 30 s after the database host went silent',
    );
    expect(answers).toEqual(requests.map(([route]) => unavailable(route)));

    await proxy.restore();
    await waitFor('GET /health to answer 200', async () => (await http.get('/health')).status === 200);
    const login = await http.post('/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    expect((await http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
    await inspectDatabase(db, async (sql) => expect(await integrityViolations(sql)).toEqual([]));
  });
});

/**
 * The server as it runs in production, `node dist/main.js` in a process of its own, so
 * that it can be killed for real. Built once for this file from the sources under test.
 */
describe('the server process: SIGTERM and SIGKILL', () => {
  let build: ServerBuild;
  const databases: TestDatabase[] = [];

  beforeAll(() => {
    build = ServerBuild.create();
  }, 180_000);
  afterAll(async () => {
    await ServerProcess.killAll();
    build?.remove();
    for (const db of databases) await db.drop();
  });

  const database = async () => {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  };

  it('finishes the requests in flight when SIGTERM arrives, lets go of idle connections, exits 0, and keeps what they wrote', async () => {
    const db = await database();
    let server = await ServerProcess.start(build, db, { TRUST_PROXY: 'true' });
    let http = new Http(server.baseUrl);
    const user = await newUser(http);
    const sessions = await Promise.all(Array.from({ length: 20 }, () => newSession(http, user)));

    // 30 logins (argon2: tens of ms each, a few at a time) and 20 refreshes (a
    // transaction each) leave together on open keep-alive connections, then a GET
    // /health on one more. Once /health is answered, the server has read every request
    // (they reached it before /health did); SIGTERM arrives then, with most of the
    // logins still being worked on.
    const client = new KeepAliveClient(server.baseUrl);
    try {
      await client.warm(51);
      const requests = [
        ...Array.from({ length: 30 }, () => client.send('POST', '/auth/login', { email: user.email, password: user.password })),
        ...sessions.map((s) => client.send('POST', '/auth/refresh', { refreshToken: s.refreshToken }, { 'x-forwarded-for': newIp() })),
      ];
      expect((await client.send('GET', '/health')).status).toBe(200);
      server.kill('SIGTERM');
      const settled = await Promise.allSettled(requests);
      // The client keeps its connections open as long as the server allows: a stopping
      // server must close them itself (Connection: close, or closing them once idle).
      const exit = await within(server.exited, 45_000, 'still running 45 s after SIGTERM');

      expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.status : String(s.reason)))).toEqual(Array(50).fill(200));
      expect({ exit, logs: (exit as Exit).code === 0 ? '' : server.logs() }).toEqual({ exit: { code: 0, signal: null }, logs: '' });

      // Restarted on the same database (for PGlite: the same directory, closed cleanly),
      // every session written or rotated by the requests in flight is there.
      server = await ServerProcess.start(build, db, { TRUST_PROXY: 'true' });
      http = new Http(server.baseUrl);
      for (const s of settled) {
        const { body } = (s as PromiseFulfilledResult<RawResponse>).value;
        expect((await http.get('/auth/me', { token: body.accessToken })).status).toBe(200);
        expect((await http.post('/auth/refresh', { refreshToken: body.refreshToken }, { headers: { 'x-forwarded-for': newIp() } })).status).toBe(200);
      }
      expect((await http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    } finally {
      client.destroy();
    }

    await inspectDatabase(db, async (sql) => {
      expect(await integrityViolations(sql)).toEqual([]);
      expect(await sessionFacts(sql)).toHaveLength(1 + 20 + 30);
    });
  }, 120_000);

  it('loses no committed session and never lets a session have two valid refresh tokens when SIGKILLed in the middle of a burst', async () => {
    const db = await database();
    // A grace window longer than the test: whether a refresh committed just before the
    // kill is then replayed within the window must not depend on how fast the restart is.
    const env = { REFRESH_REUSE_GRACE: '5m', TRUST_PROXY: 'true' };
    let server = await ServerProcess.start(build, db, env);
    let http = new Http(server.baseUrl);

    /** What the clients hold: every refresh token received, per session, oldest first. */
    const held = new Map<string, { ip: string; tokens: string[] }>();
    const users = await Promise.all(Array.from({ length: 10 }, () => newUser(http)));
    for (const u of users) held.set(u.sessionId, { ip: newIp(), tokens: [u.refreshToken] });
    for (const s of await Promise.all(users.flatMap((u) => [1, 2, 3].map(() => newSession(http, u))))) {
      held.set(s.sessionId, { ip: newIp(), tokens: [s.refreshToken] });
    }

    // The burst: 60 logins and 40 refresh chains (each refreshes its newest token, up to
    // five times in a row), 100 requests in flight; SIGKILL after the 50th answer.
    let answered = 0;
    let lost = 0;
    const answer = <T>(request: Promise<T>): Promise<T | undefined> =>
      request.then(
        (value) => {
          if (++answered === 50) server.kill('SIGKILL');
          return value;
        },
        () => {
          lost++;
          return undefined;
        },
      );
    const logins = users.flatMap((u) =>
      Array.from({ length: 6 }, async () => {
        const ip = newIp();
        const res = await answer(http.post('/auth/login', { email: u.email, password: u.password }, { headers: { 'x-forwarded-for': ip } }));
        if (res?.status === 200) held.set(res.body.sessionId, { ip, tokens: [res.body.refreshToken] });
        return res;
      }),
    );
    const chains = [...held.values()].map(async (client) => {
      for (let i = 0; i < 5; i++) {
        const res = await answer(http.post('/auth/refresh', { refreshToken: client.tokens.at(-1) }, { headers: { 'x-forwarded-for': client.ip } }));
        if (res?.status !== 200) return res;
        client.tokens.push(res.body.refreshToken);
      }
    });
    const received = (await Promise.all([...logins, ...chains])).filter((r): r is HttpResponse => r !== undefined);
    const exit = await server.exited;

    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(lost).toBeGreaterThan(0); // the kill did land in the middle of the burst
    // Before the kill, everything answered was a success.
    expect(received.map((r) => r.status)).toEqual(received.map(() => 200));

    // Restart on the same database (PGlite: recovery of the killed directory from its WAL).
    server = await ServerProcess.start(build, db, env);
    http = new Http(server.baseUrl);
    const refresh = (sessionId: string, token: string) =>
      http.post('/auth/refresh', { refreshToken: token }, { headers: { 'x-forwarded-for': held.get(sessionId)!.ip } });

    // 1. Every client's newest token works: its session survived, and a rotation that
    //    committed without its answer reaching the client is within the grace window.
    const issued = new Map<string, Set<string>>();
    const note = (sessionId: string, res: HttpResponse) => {
      if (res.status !== 200) return;
      expect(res.body.sessionId).toBe(sessionId);
      issued.set(sessionId, (issued.get(sessionId) ?? new Set()).add(res.body.refreshToken));
    };
    const newest = await Promise.all([...held].map(async ([sessionId, c]) => [sessionId, await refresh(sessionId, c.tokens.at(-1)!)] as const));
    for (const [sessionId, res] of newest) {
      expect([sessionId, res.status]).toEqual([sessionId, 200]);
      note(sessionId, res);
    }

    // 2. Every token a client ever held, all at once, the newest again among them: no
    //    session hands out a second new token; the older ones are refused.
    const replays = await Promise.all(
      [...held].flatMap(([sessionId, c]) =>
        c.tokens.map(async (token, i) => ({ sessionId, newest: i === c.tokens.length - 1, res: await refresh(sessionId, token) })),
      ),
    );
    for (const { sessionId, newest: isNewest, res } of replays) {
      if (!isNewest) expect([sessionId, res.status]).toEqual([sessionId, 401]);
      else expect([200, 401]).toContain(res.status);
      note(sessionId, res);
    }
    for (const [sessionId, tokens] of issued) expect([sessionId, tokens.size]).toEqual([sessionId, 1]);
    // A session whose old tokens came back has ended, its one new token with it.
    for (const [sessionId, c] of held) {
      if (c.tokens.length > 1) expect((await refresh(sessionId, [...issued.get(sessionId)!][0])).status).toBe(401);
    }

    expect(await server.stop()).toEqual({ code: 0, signal: null });

    await inspectDatabase(db, async (sql) => {
      expect(await integrityViolations(sql)).toEqual([]);
      const facts = await sessionFacts(sql);
      for (const [sessionId, c] of held) {
        const session = facts.find((s) => s.id === sessionId);
        expect([sessionId, session !== undefined]).toEqual([sessionId, true]);
        expect(session!.revoked_reason).toBe(c.tokens.length > 1 ? 'REUSE_DETECTED' : null);
      }
    });
  }, 120_000);
});
