import { Client } from 'pg';
import { PROBE_SQL } from '../../src/auth/revocation/revocation-listener';
import { ADMIN_ENV, newAdmin, newUser, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { ServerProcess, useServerBuild } from '../support/server-process';
import { describeOnPostgres } from '../support/test-database';
import { sleep, waitFor } from '../support/wait';

const MAX_STALENESS_MS = 1_000;
const METRICS_TOKEN = 'metrics-token-for-listener-faults';

/** The database URL with an application_name, so that the spec can find that connection in pg_stat_activity. */
function named(url: string, applicationName: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', applicationName);
  return u.toString();
}

/**
 * Faults of instance B's LISTEN connection with real processes on one PostgreSQL: its
 * backend killed while B's pool is busy, and its backend stopped (SIGSTOP) for longer than
 * the probe's patience. Two promises: B never answers 200 for a session ended on A more
 * than REVOCATION_MAX_STALENESS after A answered (whatever B's pool is doing), and B's
 * listener always comes back (memory trusted again, no query per request).
 */
describeOnPostgres('the revocation listener under faults (two instances, real processes)', () => {
  const ctx = useServerBuild();
  let pg: Client;
  let httpA: Http;
  let httpB: Http;

  beforeAll(async () => {
    const url = ctx.db.env.DATABASE_URL!;
    httpA = new Http((await ServerProcess.start(ctx.build, ctx.db, ADMIN_ENV)).baseUrl);
    const b = await ServerProcess.start(ctx.build, ctx.db, {
      DATABASE_URL: named(url, 'instance-b'),
      DATABASE_LISTEN_URL: named(url, 'listener-b'),
      DATABASE_POOL_SIZE: '3',
      REVOCATION_MAX_STALENESS: `${MAX_STALENESS_MS}ms`,
      METRICS_TOKEN,
    });
    httpB = new Http(b.baseUrl);
    pg = new Client({ connectionString: url });
    pg.on('error', () => undefined);
    await pg.connect();
  }, 180_000);
  afterAll(async () => {
    await pg?.end();
  });

  const listenerPids = async (): Promise<number[]> =>
    // The outbox's wakeups LISTEN on the same URL: the revocation listener is the one whose last query is a LISTEN of its channels or a probe.
    (
      await pg.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
          WHERE application_name = 'listener-b' AND datname = current_database() AND (query LIKE 'LISTEN auth_revocation%' OR query = $1)`,
        [PROBE_SQL],
      )
    ).rows.map((r) => r.pid);
  const listenerPid = async (): Promise<number | undefined> => {
    const pids = await listenerPids();
    expect(pids).toHaveLength(1);
    return pids[0];
  };
  const bIsLive = async () => /^auth_revocation_listener_live 1$/m.test((await httpB.get('/metrics', { token: METRICS_TOKEN })).text);

  it("never accepts a session ended on A beyond the bound while B's pool is busy and its LISTEN connection was killed", async () => {
    const admin = await newAdmin(httpA);
    const users: TestUser[] = [];
    for (let i = 0; i < 6; i++) users.push(await newUser(httpA));
    for (const user of users) expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    await waitFor('B to be live', bIsLive);

    // B's whole pool waits on a lock held on a table no logout touches.
    const locker = new Client({ connectionString: ctx.db.env.DATABASE_URL });
    locker.on('error', () => undefined); // the database is dropped under it if the spec fails before COMMIT
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE signing_keys IN ACCESS EXCLUSIVE MODE');
    const stuck = Array.from({ length: 6 }, () => httpB.get('/admin/keys', { token: admin.accessToken }));
    await waitFor("B's pool to be busy", async () => {
      const { rows } = await pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'instance-b' AND wait_event_type = 'Lock'`,
      );
      return rows[0].n === 3;
    });

    // B's LISTEN connection is killed; the sessions end on A right away, while B reconnects.
    const pid = await listenerPid();
    expect(pid).toBeDefined();
    await pg.query('SELECT pg_terminate_backend($1)', [pid]);
    const ended = await Promise.all(
      users.map(async (user) => {
        const res = await httpA.post('/auth/logout', undefined, { token: user.accessToken });
        return { status: res.status, at: Date.now() };
      }),
    );
    expect(ended.map((e) => e.status)).toEqual(users.map(() => 204));
    const endedAt = Math.max(...ended.map((e) => e.at));

    // Hammer B with the ended sessions' tokens for a while, then release the lock.
    const answers: Array<Promise<{ sentAt: number; status: number }>> = [];
    const hammerUntil = Date.now() + 4_000;
    while (Date.now() < hammerUntil) {
      for (const user of users) {
        const sentAt = Date.now();
        answers.push(
          httpB.get('/auth/me', { token: user.accessToken }).then(
            (res) => ({ sentAt, status: res.status }),
            () => ({ sentAt, status: 0 }),
          ),
        );
      }
      await sleep(50);
    }
    await locker.query('COMMIT');
    await locker.end();
    await Promise.all(stuck);
    const settled = await Promise.all(answers);

    const late = settled.filter((a) => a.sentAt > endedAt + MAX_STALENESS_MS);
    expect(late.length).toBeGreaterThan(0);
    const lateAccepted = late.filter((a) => a.status === 200);
    console.log(
      `killed listener, busy pool: ${settled.filter((a) => a.status === 200).length} of ${settled.length} requests for ended sessions accepted, ` +
        `${lateAccepted.length} of them sent more than ${MAX_STALENESS_MS} ms after the logouts answered; ` +
        `answers: ${[...new Set(settled.map((a) => a.status))].join(', ')}`,
    );
    expect(lateAccepted).toEqual([]);

    // Once the pool is free the listener reloads, is live again, and refuses from memory.
    await waitFor('B to be live again', bIsLive);
    for (const user of users) expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(401);
  });

  it('comes back after its backend was stopped for longer than the probe patience (SIGSTOP, then SIGCONT)', async () => {
    const user = await newUser(httpA);
    await waitFor('B to be live', bIsLive);
    const pid = await listenerPid();
    expect(pid).toBeDefined();

    process.kill(pid!, 'SIGSTOP');
    try {
      await waitFor('B to leave its memory', async () => !(await bIsLive()));
      // Longer than the probe's patience (8 probes of maxStaleness / 4 = 2 s): the connection is declared dead.
      await sleep(3_000);
    } finally {
      process.kill(pid!, 'SIGCONT');
    }
    // B opens another connection, reloads, and its probes certify the memory again.
    await waitFor('B to be live again after the stall', bIsLive, { attempts: 150 });
    await waitFor('the stopped backend to be gone and another to listen', async () => {
      const pids = await listenerPids();
      return pids.length === 1 && pids[0] !== pid;
    });

    // Live means revocations are heard again: a logout on A is refused by B from memory.
    expect((await httpA.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    await waitFor('B to refuse the ended session', async () => (await httpB.get('/auth/me', { token: user.accessToken })).status === 401);
    expect(await bIsLive()).toBe(true);
  });
});
