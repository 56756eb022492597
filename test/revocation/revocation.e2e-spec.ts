import { Client } from 'pg';
import { PROBE_SQL } from '../../src/auth/revocation/revocation-listener';
import { RevocationService } from '../../src/auth/revocation/revocation.service';
import type { Database } from '../../src/database/database';
import { DATABASE } from '../../src/database/database.constants';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { newSession, newUser } from '../support/factories';
import { Http } from '../support/http';
import { ServerBuild, ServerProcess } from '../support/server-process';
import { startApp, useApp, type TestApp } from '../support/test-app';

/** Polls `probe` until it returns true; fails after `limitMs` (a safety net, not a speed target). */
async function eventually(probe: () => Promise<boolean> | boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts the statements the app sends to its database (PGlite calls, or pg client queries). */
function countStatements(server: TestApp): { stop(): number } {
  const database = server.app.get<Database>(DATABASE);
  const targets: [object, string][] = database.pglite
    ? [
        [database.pglite, 'query'],
        [database.pglite, 'exec'],
      ]
    : [[Client.prototype, 'query']];
  let count = 0;
  const restore = targets.map(([target, name]) => {
    const original = (target as Record<string, (...args: unknown[]) => unknown>)[name];
    (target as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      // The revocation listener's lease probe is not a request's query.
      if (args[0] !== PROBE_SQL) count++;
      return original.apply(this, args);
    };
    return () => ((target as Record<string, unknown>)[name] = original);
  });
  return { stop: () => (restore.forEach((r) => r()), count) };
}

describe('revocation without a database round trip per request', () => {
  const t = useApp();

  it('checks a valid token from memory: no statement reaches the database', async () => {
    const user = await newUser(t.http);
    await t.http.get('/auth/me', { token: user.accessToken }); // the profile is cached from here on
    expect(t.server.app.get(RevocationService).isLive).toBe(true);
    const statements = countStatements(t.server);
    for (let i = 0; i < 20; i++) expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect(statements.stop()).toBe(0);
    // The counter does see the database when it is used.
    const check = countStatements(t.server);
    await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(check.stop()).toBeGreaterThan(0);
  });

  it('refuses a token of an ended session on the very next request', async () => {
    const user = await newUser(t.http);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);
  });

  it('reloads the window at start: a restarted instance still refuses tokens revoked before it started', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    await t.http.post('/auth/logout-all', undefined, { token: other.accessToken });
    await t.restart();
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: other.accessToken })).status).toBe(401);
  });

  it('keeps in memory only the revocations of the last ACCESS_TOKEN_TTL, however many there were', async () => {
    // 100,000 sessions revoked before the window, and 10 inside it.
    await t.server.prisma.$executeRaw`
      INSERT INTO revocation_events (kind, user_id, session_id, created_at)
      SELECT 'SESSION_ENDED', gen_random_uuid(), gen_random_uuid(), now() - interval '1 hour'
        FROM generate_series(1, 100000)`;
    await t.server.prisma.$executeRaw`
      INSERT INTO revocation_events (kind, user_id, session_id, created_at)
      SELECT 'SESSION_ENDED', gen_random_uuid(), gen_random_uuid(), now() FROM generate_series(1, 10)`;
    await t.restart();
    const revocation = t.server.app.get(RevocationService);
    // Earlier tests' revocations are inside the window too; none of the 100,000 old ones are.
    expect(revocation.size).toBeGreaterThanOrEqual(10);
    expect(revocation.size).toBeLessThan(100);
  });
});

describe('revocation state is forgotten once no token it concerns can be alive', () => {
  let db: TestDatabase;
  let server: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await server?.close();
    await db.drop();
  });

  it('holds 100,000 fresh revocations, then drops them after the TTL', async () => {
    // Window = ACCESS_TOKEN_TTL (15 s) + 5 s margin: wide enough that a slow restart still
    // loads them, short enough to watch them go.
    server = await startApp(db, { ACCESS_TOKEN_TTL: '15s' });
    await server.prisma.$executeRaw`
      INSERT INTO revocation_events (kind, user_id, session_id, created_at)
      SELECT 'SESSION_ENDED', gen_random_uuid(), gen_random_uuid(), now()
        FROM generate_series(1, 100000)`;
    await server.close();
    server = await startApp(db, { ACCESS_TOKEN_TTL: '15s' });
    const revocation = server.app.get(RevocationService);
    expect(revocation.size).toBe(100_000);
    await eventually(() => revocation.size === 0, 60_000);
  }, 120_000);
});

// Two real server processes: in one jest process two Nest apps would share passport's
// global strategy registry (the last app's JwtStrategy would verify both apps' requests).
describeOnPostgres('revocation across instances sharing one PostgreSQL database', () => {
  let db: TestDatabase;
  let build: ServerBuild;
  let a: ServerProcess;
  let b: ServerProcess;
  let httpA: Http;
  let httpB: Http;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    build = ServerBuild.create();
    a = await ServerProcess.start(build, db);
    b = await ServerProcess.start(build, db);
    httpA = new Http(a.baseUrl);
    httpB = new Http(b.baseUrl);
    pg = new Client({ connectionString: db.env.DATABASE_URL });
    await pg.connect();
  }, 180_000);
  afterAll(async () => {
    await ServerProcess.killAll();
    await pg?.end();
    build?.remove();
    await db.drop();
  });

  const listenerPids = async () =>
    (
      await pg.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'auth-revocation-listener' AND datname = current_database()`)
    ).rows.map((r) => r.pid);

  it('a logout-all on instance A is refused by A at once and by B as soon as it hears it', async () => {
    const user = await newUser(httpA);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect(await listenerPids()).toHaveLength(2);

    expect((await httpA.post('/auth/logout-all', undefined, { token: user.accessToken })).status).toBe(204);
    expect((await httpA.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    await eventually(async () => (await httpB.get('/auth/me', { token: user.accessToken })).status === 401);
  });

  it('after a dropped notification connection, nothing revoked is accepted, and it recovers', async () => {
    const user = await newUser(httpA);
    const second = await newSession(httpA, user);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);

    // Kill both instances' LISTEN connections from the server side, and let them notice.
    const pids = await listenerPids();
    expect(pids).toHaveLength(2);
    await pg.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)', [pids]);
    await eventually(async () => (await listenerPids()).every((pid) => !pids.includes(pid)));

    // Revoked while B may not hear: B must refuse anyway. Until its new connection is
    // certified, from the database; if it already is (a loaded machine reconnects before
    // this line), from the notification, which can arrive a few milliseconds after A's
    // answer: so "refused", then "never accepted again".
    expect((await httpA.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    await eventually(async () => (await httpB.get('/auth/me', { token: user.accessToken })).status === 401);
    expect((await httpB.get('/auth/me', { token: second.accessToken })).status).toBe(200);

    // …and once both have reconnected, they still are right.
    await eventually(async () => (await listenerPids()).length === 2, 30_000);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    expect((await httpB.get('/auth/me', { token: second.accessToken })).status).toBe(200);
    expect((await httpA.post('/auth/logout-all', undefined, { token: second.accessToken })).status).toBe(204);
    await eventually(async () => (await httpB.get('/auth/me', { token: second.accessToken })).status === 401);
  });
});
