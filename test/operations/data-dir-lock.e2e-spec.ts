import { newUser } from '../support/factories';
import { Http } from '../support/http';
import { runCommand, ServerBuild, ServerProcess } from '../support/server-process';
import { createTestDatabase, describeOnPglite, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

const ADMIN_PASSWORD = 'cli admin passphrase 1';

const adminCreate = (build: ServerBuild, db: TestDatabase, email: string) =>
  runCommand(build, 'admin/first-admin/admin-create.cli.js', db, ['--email', email], { ADMIN_PASSWORD });

const keysRotate = (build: ServerBuild, db: TestDatabase) => runCommand(build, 'auth/keys/keys-rotate.cli.js', db);

/** The kids a server publishes, sorted. */
const publishedKids = async (http: Http): Promise<string[]> =>
  ((await http.get('/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((k) => k.kid).sort();

async function loginRole(http: Http, email: string, password: string): Promise<[number, string | undefined]> {
  const res = await http.post('/auth/login', { email, password });
  return [res.status, res.body?.user?.role];
}

/**
 * Issue "Data loss first": `npm run admin:create` beside a server running on the embedded
 * database printed "Created admin" and exited 0, and the account was never seen by the
 * server and gone after its restart. Real processes here, as in production: the server is
 * `node dist/main.js`, the commands `node dist/….cli.js`, on one DATA_DIR.
 */
describeOnPglite('one DATA_DIR, one process: commands and a second server are refused while a server runs', () => {
  let build: ServerBuild;
  let db: TestDatabase;
  let server: ServerProcess;
  let http: Http;
  const newAdmin = 'new-admin@example.com';
  let registered: Awaited<ReturnType<typeof newUser>>;

  beforeAll(async () => {
    build = ServerBuild.create();
    db = await createTestDatabase();
    server = await ServerProcess.start(build, db);
    http = new Http(server.baseUrl);
    registered = await newUser(http);
  }, 180_000);
  afterAll(async () => {
    await ServerProcess.killAll();
    build?.remove();
    await db?.drop();
  });

  it('refuses admin:create (a new admin, or a promotion): exit 1, says to stop the server or use the admin API; the server keeps serving', async () => {
    for (const email of [newAdmin, registered.email]) {
      const { code, output } = await adminCreate(build, db, email);
      expect({ email, code }).toEqual({ email, code: 1 });
      expect(output).toContain(`The embedded database in ${db.env.DATA_DIR} is in use by a running server (pid ${server.pid})`);
      expect(output).toContain('nothing was written. Stop the server first');
      expect(output).toContain('PATCH /admin/users/:id and {"role":"ADMIN"}');
      expect(output).toContain('On a PostgreSQL server (DATABASE_URL), npm run admin:create can run beside running servers.');
      expect(output).not.toMatch(/Created admin|Promoted to admin/);
    }
    expect((await http.get('/health')).status).toBe(200);
    expect(await loginRole(http, registered.email, registered.password)).toEqual([200, 'USER']);
  });

  it('refuses db:migrate the same way, and the server keeps serving', async () => {
    const { code, output } = await runCommand(build, 'database/migrate.cli.js', db);
    expect(code).toBe(1);
    expect(output).toContain(`The embedded database in ${db.env.DATA_DIR} is in use by a running server (pid ${server.pid})`);
    expect(output).toContain('Stop the server first');
    expect(output).toContain('On a PostgreSQL server (DATABASE_URL), npm run db:migrate can run beside running servers.');
    expect((await http.get('/health')).status).toBe(200);
  });

  it('refuses keys:rotate the same way, pointing at POST /admin/keys/rotate, and the server keeps its one key', async () => {
    const { code, output } = await keysRotate(build, db);
    expect(code).toBe(1);
    expect(output).toContain(`The embedded database in ${db.env.DATA_DIR} is in use by a running server (pid ${server.pid})`);
    expect(output).toContain("Stop the server first, or use the running server's admin API: POST /admin/keys/rotate");
    expect(output).toContain('On a PostgreSQL server (DATABASE_URL), npm run keys:rotate can run beside running servers.');
    expect(await publishedKids(http)).toHaveLength(1);
  });

  it('refuses to start a second server on the same DATA_DIR (exit 1, ending on one clear line) while the first keeps serving', async () => {
    const refused = await ServerProcess.start(build, db).then(
      () => new Error('the second server started'),
      (error: Error) => error,
    );
    const [status, output] = refused.message.split(':\n');
    expect(status).toBe('server exited during start-up ({"code":1,"signal":null})');
    // The last line, main.ts's: what an operator reads first (before it, Nest prints the
    // start-up log it had buffered and the error with its stack, as for any start-up failure).
    expect(output.trim().split('\n').at(-1)).toContain(
      `The embedded database in ${db.env.DATA_DIR} is in use by a running server (pid ${server.pid}), ` +
        'and two processes must never open one DATA_DIR: this server does not start. Stop that process first, ',
    );
    expect((await http.get('/health')).status).toBe(200);
    expect(await loginRole(http, registered.email, registered.password)).toEqual([200, 'USER']);
  });

  it('lets admin:create run once the server is stopped, and the restarted server has the new admin and the promotion: nothing lost', async () => {
    const before = await publishedKids(http);
    expect(await server.stop()).toEqual({ code: 0, signal: null });

    const created = await adminCreate(build, db, newAdmin);
    expect(created).toEqual({ code: 0, output: expect.stringContaining(`Created admin ${newAdmin}`) });
    const promoted = await adminCreate(build, db, registered.email);
    expect(promoted).toEqual({ code: 0, output: expect.stringContaining(`Promoted to admin: ${registered.email}`) });

    const rotated = await keysRotate(build, db);
    expect(rotated).toEqual({ code: 0, output: expect.stringMatching(/New signing key [A-Za-z0-9_-]{43} \(ES256\): published now, signs from /) });

    server = await ServerProcess.start(build, db);
    http = new Http(server.baseUrl);
    expect(await loginRole(http, newAdmin, ADMIN_PASSWORD)).toEqual([200, 'ADMIN']);
    expect(await loginRole(http, registered.email, registered.password)).toEqual([200, 'ADMIN']);
    // The rotation was kept too: the new key is published beside the one still signing.
    const after = await publishedKids(http);
    expect(after).toHaveLength(2);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  it('starts a new server on the same DATA_DIR at once after the previous one was SIGKILLed (its lock is stale)', async () => {
    server.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });

    server = await ServerProcess.start(build, db);
    http = new Http(server.baseUrl);
    expect(await loginRole(http, newAdmin, ADMIN_PASSWORD)).toEqual([200, 'ADMIN']);
  });
});

/** On a PostgreSQL server every process has its own connections to one database: nothing to refuse. */
describeOnPostgres('admin:create beside a running server on PostgreSQL', () => {
  let build: ServerBuild;
  let db: TestDatabase;

  beforeAll(async () => {
    build = ServerBuild.create();
    db = await createTestDatabase();
  }, 180_000);
  afterAll(async () => {
    await ServerProcess.killAll();
    build?.remove();
    await db?.drop();
  });

  it('creates the admin while the server runs, and the running server lets it sign in without a restart', async () => {
    const server = await ServerProcess.start(build, db);
    const http = new Http(server.baseUrl);

    const created = await adminCreate(build, db, 'pg-admin@example.com');
    expect(created).toEqual({ code: 0, output: expect.stringContaining('Created admin pg-admin@example.com') });
    expect(await loginRole(http, 'pg-admin@example.com', ADMIN_PASSWORD)).toEqual([200, 'ADMIN']);
  });

  it('rotates the signing key while the server runs, and the running server publishes the new key at once (NOTIFY)', async () => {
    const server = await ServerProcess.start(build, db);
    const http = new Http(server.baseUrl);
    const before = await publishedKids(http);
    const rotated = await keysRotate(build, db);
    expect(rotated.code).toBe(0);
    const kid = /New signing key ([A-Za-z0-9_-]{43})/.exec(rotated.output)?.[1];
    expect(kid).toBeDefined();
    await waitFor('the server to publish the new key', async () => (await publishedKids(http)).includes(kid!), { attempts: 50, everyMs: 20 });
    expect(await publishedKids(http)).toEqual([...before, kid!].sort());
  });
});
