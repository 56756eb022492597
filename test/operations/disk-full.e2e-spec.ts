import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inspectDatabase, integrityViolations } from '../support/db-inspect';
import { newUser, type TestUser } from '../support/factories';
import { Http, type HttpResponse } from '../support/http';
import { ServerBuild, ServerProcess } from '../support/server-process';
import { createTestDatabase, describeOnPglite, type TestDatabase } from '../support/test-database';
import { describeWithTmpfs, Tmpfs } from '../support/tmpfs';
import { waitFor, within } from '../support/wait';

/** What a write answers while DATA_DIR's disk is full (API.md: errors). */
const DISK_FULL = { statusCode: 503, message: 'the database cannot write: disk full', error: 'Service Unavailable' };
/** GET /health meanwhile (API.md: /health). */
const HEALTH_DISK_FULL = { status: 'error', database: 'down', reason: 'disk full' };
const HEALTH_UP = { status: 'ok', database: 'up' };

/**
 * Room for PGlite's data directory (about 39 MB once migrated, a 16 MB WAL segment of it)
 * and the free space the embedded database keeps in reserve (32 MiB), with room to spare.
 */
const TMPFS_MIB = 128;

const newEmail = () => `disk-${randomBytes(5).toString('hex')}@example.com`;

/** What a client sees of an answer given on a full disk. */
const seen = (route: string, res: HttpResponse) => ({
  route,
  status: res.status,
  body: res.body,
  // Internals (stack frames, driver and PostgreSQL messages) and issued tokens must not leak.
  leaks: /\bat .+:\d+:\d+|prisma|P2039|53100|No space left|could not (extend|write)|refreshToken|accessToken/i.test(res.text),
  setsCookie: res.headers.getSetCookie().length > 0,
});
const diskFull = (route: string) => ({ route, status: 503, body: DISK_FULL, leaks: false, setsCookie: false });

/** The server build both parts run: `node dist/main.js`, and the database module in a child. */
let build: ServerBuild;

/**
 * Issue 23: on a full disk, the embedded database's writes that had to grow a file failed
 * with PostgreSQL's "could not extend file …: No space left on device", which reached
 * clients as a 500 (Prisma P2039); those that fit in a page already on disk succeeded
 * (here: a registration and a login answered 201 and 200, a refresh 500); and GET /health
 * said the database was up. A real full disk here: DATA_DIR on a tmpfs of its own, filled
 * with a file by the spec, under a real server process; then the file is deleted and the
 * same process must work again.
 */
describeWithTmpfs('test/operations/disk-full.e2e-spec.ts', describeOnPglite)('DATA_DIR on a full disk', () => {
  beforeAll(() => {
    build = ServerBuild.create();
  }, 180_000);
  afterAll(() => build?.remove());

  describe('a full disk under the embedded database: 503 "disk full", /health down, back without a restart', () => {
    let db: TestDatabase;
    let disk: Tmpfs;
    /** The spec's database, with DATA_DIR on the tmpfs. */
    let onDisk: TestDatabase;
    let server: ServerProcess;
    let http: Http;
    let user: TestUser;
    /** The address whose registration the full disk refused. */
    const refusedEmail = newEmail();
    const refusedPassword = `pw-${randomBytes(8).toString('hex')}`;

    beforeAll(async () => {
      db = await createTestDatabase();
      disk = Tmpfs.mount(TMPFS_MIB);
      onDisk = { ...db, env: { DATA_DIR: disk.dir } };
      server = await ServerProcess.start(build, onDisk);
      http = new Http(server.baseUrl);
      user = await newUser(http);
    }, 180_000);
    afterAll(async () => {
      await ServerProcess.killAll();
      disk?.unmount();
      await db?.drop();
    });

    it('answers 503 "the database cannot write: disk full" to register, login and refresh once the disk is full, and keeps running', async () => {
      disk.fill();
      expect(disk.freeBytes()).toBe(0);
      const attempts = [
        seen('POST /auth/register', await http.post('/auth/register', { email: refusedEmail, password: refusedPassword, name: 'Refused' })),
        seen('POST /auth/login', await http.post('/auth/login', { email: user.email, password: user.password })),
        seen('POST /auth/refresh', await http.post('/auth/refresh', { refreshToken: user.refreshToken })),
        // Again: the first refusal changed nothing.
        seen('POST /auth/register', await http.post('/auth/register', { email: refusedEmail, password: refusedPassword, name: 'Refused' })),
      ];
      expect(attempts).toEqual(attempts.map(({ route }) => diskFull(route)));
      expect(await within(server.exited, 0, 'running')).toBe('running');
      // The operator reads why, and what to do, in the log; without the requests' secrets.
      expect(server.logs()).toContain("DATA_DIR's disk is full");
      expect(server.logs()).toContain('Writes resume by themselves once there is space: no restart is needed.');
      for (const secret of [refusedPassword, user.password, user.refreshToken]) expect(server.logs()).not.toContain(secret);
    });

    it('reports the database down on GET /health while the disk is full, and still serves what writes nothing', async () => {
      const health = await http.get('/health');
      expect({ status: health.status, body: health.body }).toEqual({ status: 503, body: HEALTH_DISK_FULL });
      expect((await http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
      expect((await http.get('/.well-known/jwks.json')).status).toBe(200);
    });

    it('works again once the space is back, in the same process: /health up, the refused registration and a login succeed', async () => {
      const pid = server.pid;
      disk.free();
      await waitFor('GET /health to answer 200 again', async () => (await http.get('/health')).status === 200, { attempts: 50, everyMs: 200 });
      expect((await http.get('/health')).body).toEqual(HEALTH_UP);
      // 201, not 409: the refused registration left no user behind.
      const registered = await http.post('/auth/register', { email: refusedEmail, password: refusedPassword, name: 'Refused' });
      expect(registered.status).toBe(201);
      expect((await http.post('/auth/login', { email: user.email, password: user.password })).status).toBe(200);
      expect((await http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
      expect(server.pid).toBe(pid);
      expect(await within(server.exited, 0, 'running')).toBe('running');
    });

    it('kept nothing half-written: after a clean stop the database holds exactly the writes that were answered 2xx', async () => {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
      const facts = await inspectDatabase(onDisk, async (sql) => ({
        users: (await sql.query<{ email: string }>('SELECT email FROM users ORDER BY email')).map((u) => u.email),
        // The first registration, and after the space came back: the registration, the login.
        sessions: (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions'))[0].n,
        // The refresh after the space came back; the refused one rotated nothing.
        rotated: (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM rotated_refresh_tokens'))[0].n,
        violations: await integrityViolations(sql),
      }));
      expect(facts).toEqual({ users: [user.email, refusedEmail].sort(), sessions: 3, rotated: 1, violations: [] });
    });
  });

  /**
   * What PGlite does when a write it cannot refuse fails (a new WAL segment, a checkpoint):
   * PostgreSQL's PANIC, which would restart a server. PGlite's instance cannot restart: after
   * it, it answers wrong results or spins forever in its next statement, and the whole
   * process with it (the WebAssembly runs on the event loop). The embedded database must
   * then refuse every statement without running it, and close without touching it. Run in
   * a child process (the build's database module), so that a hang fails the spec instead of
   * freezing Jest; the reserve of free space is set to 0 there to let PGlite meet ENOSPC.
   */
  describe('the embedded database after a PANIC on a full disk: refused at once until a restart, nothing lost', () => {
    let disk: Tmpfs;

    beforeAll(() => {
      disk = Tmpfs.mount(96);
    });
    afterAll(() => disk?.unmount());

    /**
     * The child: every step's outcome, as `ok` or the message of its error, printed as JSON
     * on stdout. It fills the disk itself (as Tmpfs.fill does), between two statements.
     */
    const SCRIPT = `
      const { openDatabase } = require('./dist/database/database.js');
      const { openSync, writeSync, closeSync, rmSync } = require('node:fs');
      const [dataDir] = process.argv.slice(1);
      const fill = () => {
        const fd = openSync(dataDir + '/filler', 'a');
        for (const size of [1 << 20, 4096, 1]) { try { for (;;) writeSync(fd, Buffer.alloc(size)); } catch {} }
        closeSync(fd);
      };
      (async () => {
        const database = await openDatabase({ dataDir, minFreeBytes: 0 });
        const adapter = await database.adapter.connect();
        const run = (sql) => adapter.executeRaw({ sql, args: [], argTypes: [] }).then(() => 'ok', (e) => e.message);
        const steps = {};
        steps.create = await run("CREATE TABLE t (id int PRIMARY KEY, v text)");
        steps.fillRoom = await run("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 2000) g");
        await run('DELETE FROM t WHERE id > 1');
        await run('VACUUM t');
        fill();
        steps.insertOnFullDisk = await run("INSERT INTO t VALUES (2, 'fits in a page and the WAL segment')");
        steps.switchWal = await run('SELECT pg_switch_wal()');
        steps.insertNeedingSegment = await run("INSERT INTO t VALUES (3, 'needs a new WAL segment')");
        steps.selectAfterPanic = await run('SELECT count(*) FROM t');
        rmSync(dataDir + '/filler');
        steps.selectWithSpaceBack = await run('SELECT count(*) FROM t');
        await database.close();
        steps.closed = 'ok';
        console.log(JSON.stringify(steps));
        // Explicitly: PGlite sets process.exitCode to 99 when it starts, and only its close() resets it.
        process.exit(0);
      })().catch((e) => { console.log(JSON.stringify({ failed: e.message })); process.exit(1); });
    `;

    it('refuses every statement after the PANIC without running it (no hang), closes, and a new process finds every committed row', async () => {
      const child = spawn(process.execPath, ['-e', SCRIPT, disk.dir], { cwd: build.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let logs = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const code = await within(exited, 60_000, 'hung');
      if (code === 'hung') child.kill('SIGKILL');
      expect({ code, stdout, logs }).toEqual({ code: 0, stdout: expect.stringMatching(/^\{.*\}\n$/), logs: expect.any(String) });
      const steps = JSON.parse(stdout);
      const stopped = 'the database cannot write: disk full; the embedded database stopped at a PANIC and runs no statement until the server restarts';
      expect(steps).toEqual({
        create: 'ok',
        fillRoom: 'ok',
        insertOnFullDisk: 'ok',
        switchWal: 'ok',
        insertNeedingSegment: expect.stringContaining('could not write to file "pg_wal/xlogtemp'),
        selectAfterPanic: expect.stringContaining(stopped),
        selectWithSpaceBack: expect.stringContaining(stopped),
        closed: 'ok',
      });
      // What the operator must do.
      expect(logs).toContain('The embedded database stopped at a PANIC (53100: could not write to file "pg_wal/xlogtemp');
      expect(logs).toContain(`Free space on the disk of ${disk.dir}/pglite, then restart the server`);

      // A new process, the space back: PostgreSQL's recovery replays the WAL to the last commit.
      disk.free();
      const rows = await inspectDatabase({ kind: 'pglite', env: { DATA_DIR: disk.dir }, drop: async () => undefined }, async (sql) => {
        await sql.exec("INSERT INTO t VALUES (4, 'after the restart')");
        return (await sql.query<{ id: number }>('SELECT id FROM t ORDER BY id')).map((r) => r.id);
      });
      expect(rows).toEqual([1, 2, 4]);
    }, 120_000);
  });
});
