import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { readableConsole } from '../../src/common/logging';
import { ADMIN_ENV, ADMIN } from '../support/factories';
import { TEST_SECRET } from '../support/test-app';
import { freePort, hasScript, runCommand, ServerBuild, ServerProcess } from '../support/server-process';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** A password in DATABASE_URL that must never be printed (the test server trusts loopback, whatever it is). */
const DB_PASSWORD = 'never-print-this-pw';

/** Every line of `output` as a JSON log record (a line that is not JSON fails the parse). */
const records = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { level: number; msg: string; context?: string });

/** What a person starting the server meets: the start-up line, and a failed start in one line. */
describe('start-up, as `node dist/main.js` prints it', () => {
  let build: ServerBuild;
  let db: TestDatabase;
  /** db.env, with a password in DATABASE_URL when it names a server. */
  let dbEnv: Record<string, string>;
  let database: string;

  beforeAll(async () => {
    build = ServerBuild.create();
    db = await createTestDatabase();
    dbEnv = { ...db.env };
    if (db.env.DATABASE_URL) {
      const url = new URL(db.env.DATABASE_URL);
      url.password = DB_PASSWORD;
      dbEnv.DATABASE_URL = url.toString();
      database = `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
    } else {
      database = `embedded PGlite in ${resolve(db.env.DATA_DIR, 'pglite')}`;
    }
  });
  afterAll(async () => {
    await ServerProcess.killAll();
    await db?.drop();
    build?.remove();
  });

  /** A start and a stop; `whileUp` runs in between. */
  const start = async (env: Record<string, string>, whileUp: (server: ServerProcess) => Promise<void> = async () => undefined) => {
    const server = await ServerProcess.start(build, db, { ...dbEnv, LOG_LEVEL: 'info', ...env });
    await whileUp(server);
    await server.stop();
    return { server, lines: records(server.logs()) };
  };

  it('ends with one JSON line: the URL, the docs, the console, the database without its password, and the admin ADMIN_EMAIL created', async () => {
    let docs: Response | undefined;
    const { server, lines } = await start(ADMIN_ENV, async (up) => void (docs = await fetch(`${up.baseUrl}/docs`)));
    // The docs it names are there (Swagger UI, served by @fastify/static).
    expect([docs?.status, docs?.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);
    const url = server.baseUrl;
    const started = lines.findIndex((line) => line.msg.startsWith('Listening on'));
    expect(lines[started]).toMatchObject({
      level: 30,
      msg: `Listening on ${url} — docs ${url}/docs — console ${url}/console — database: ${database} — admin created: ${ADMIN.email}`,
    });
    // The last line of the start: after it, only the access log of the health checks.
    expect(lines.slice(started + 1).filter((line) => line.msg !== 'request completed')).toEqual([]);
    expect(server.logs()).not.toContain(DB_PASSWORD);
  });

  it("at LOG_LEVEL=info shows none of Nest's module and route lines, and no admin when none was created", async () => {
    const { server, lines } = await start(ADMIN_ENV);
    expect(lines.filter((line) => /^(NestFactory|InstanceLoader|RoutesResolver|RouterExplorer|NestApplication)$/.test(line.context ?? ''))).toEqual([]);
    expect(server.logs()).not.toMatch(/successfully started|dependencies initialized|Mapped \{/);
    // The admin existed already: this start created none.
    expect(lines.find((line) => line.msg.startsWith('Listening on'))?.msg).toBe(
      `Listening on ${server.baseUrl} — docs ${server.baseUrl}/docs — console ${server.baseUrl}/console — database: ${database}`,
    );
  });

  it('a port in use: exit 1 and one line naming it, no "successfully started", no stack', async () => {
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((done) => holder.listen(port, '127.0.0.1', done));
    try {
      // At info, the facts of the start before it may precede it (a migration applied, the
      // revocation listener); the failure itself is one line, the last, and nothing else warns.
      const { exit, output } = await ServerProcess.run(build, db, { ...dbEnv, LOG_LEVEL: 'info', PORT: String(port) });
      expect(exit).toEqual({ code: 1, signal: null });
      const lines = records(output);
      const failure = { level: 60, msg: `Cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE). Stop the other process or set PORT.` };
      expect(lines.at(-1)).toMatchObject(failure);
      expect(lines.filter((line) => line.level >= 40)).toHaveLength(1);
      expect(output).not.toContain('successfully started');
      expect(output).not.toMatch(/^\s+at /m);
      // At the level of ServerProcess's other runs (warn): that line alone.
      const quiet = await ServerProcess.run(build, db, { ...dbEnv, LOG_LEVEL: 'warn', PORT: String(port) });
      expect(quiet.exit).toEqual({ code: 1, signal: null });
      expect(records(quiet.output)).toEqual([expect.objectContaining(failure)]);
    } finally {
      holder.close();
    }
  });

  it('an unreachable DATABASE_URL: exit 1 and one line naming DATABASE_URL and host:port, never the password', async () => {
    const port = await freePort(); // closed: nothing listens there
    const { exit, output } = await ServerProcess.run(build, db, {
      LOG_LEVEL: 'info',
      DATABASE_URL: `postgresql://someone:${DB_PASSWORD}@127.0.0.1:${port}/auth`,
    });
    expect(exit).toEqual({ code: 1, signal: null });
    const lines = records(output);
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe(60);
    expect(lines[0].msg).toMatch(new RegExp(`^Cannot reach the database at DATABASE_URL \\(127\\.0\\.0\\.1:${port}\\): .*ECONNREFUSED`));
    expect(output).not.toContain(DB_PASSWORD);
    expect(output).not.toMatch(/^\s+at /m);
  });

  it('a database whose signing keys were sealed under another AUTH_SECRET: exit 1, one line saying which secret to start with, never a secret', async () => {
    // The keys of this database were sealed under the secret of every start above (ServerProcess's TEST_SECRET).
    await start({});
    // What a start with a secret generated anew at each start meets the second time.
    const another = 'a-secret-generated-anew-at-this-start-0123456789';
    for (const env of [
      { LOG_LEVEL: 'info', AUTH_SECRET: another },
      { LOG_LEVEL: 'warn', AUTH_SECRET: another },
    ]) {
      const { exit, output } = await ServerProcess.run(build, db, { ...dbEnv, ...env });
      expect(exit).toEqual({ code: 1, signal: null });
      const problems = records(output).filter((line) => line.level >= 40);
      expect(problems).toEqual([
        expect.objectContaining({
          level: 60,
          msg: expect.stringMatching(
            /^The signing keys in this database were sealed under another AUTH_SECRET: start with the AUTH_SECRET this database was created with .*AUTH_SECRET_PREVIOUS/,
          ),
        }),
      ]);
      expect(output).not.toContain(another);
      expect(output).not.toContain(TEST_SECRET);
      expect(output).not.toMatch(/^\s+at /m);
    }
    // With AUTH_SECRET_PREVIOUS set, and neither the secret of the keys: the same line, in its words.
    const both = await ServerProcess.run(build, db, { ...dbEnv, AUTH_SECRET: another, AUTH_SECRET_PREVIOUS: `${another}-previous` });
    expect(both.exit).toEqual({ code: 1, signal: null });
    expect(records(both.output)).toEqual([
      expect.objectContaining({
        level: 60,
        msg: expect.stringMatching(/sealed under neither AUTH_SECRET nor AUTH_SECRET_PREVIOUS: set AUTH_SECRET to the secret this database was created with/),
      }),
    ]);
    // The right secret again: it starts.
    await start({});
  });

  it('the commands say the same of an unreachable DATABASE_URL: db:migrate, admin:create, keys:rotate', async () => {
    const port = await freePort();
    const unreachable = { DATABASE_URL: `postgresql://someone:${DB_PASSWORD}@127.0.0.1:${port}/auth` };
    for (const [script, env] of [
      ['database/migrate.cli.js', {}],
      ['admin/first-admin/admin-create.cli.js', { ADMIN_EMAIL: 'cli@example.com', ADMIN_PASSWORD: 'cli admin passphrase 1' }],
      ['auth/keys/keys-rotate.cli.js', {}],
    ] as const) {
      const { code, output } = await runCommand(build, script, db, [], { ...env, ...unreachable });
      expect({ script, code }).toEqual({ script, code: 1 });
      expect(output.trim()).toMatch(
        new RegExp(`^Cannot reach the database at DATABASE_URL \\(127\\.0\\.0\\.1:${port}\\): .*ECONNREFUSED.*Check that PostgreSQL runs there`),
      );
      expect(output).not.toContain(DB_PASSWORD);
      expect(output).not.toMatch(/^\s+at /m);
    }
  });

  /* eslint-disable jest/no-standalone-expect -- the test block is `it` or `it.skip`, as util-linux `script` is there or not */
  (hasScript() ? it : it.skip)('in development on a terminal: readable lines, not JSON', async () => {
    const server = await ServerProcess.start(build, db, { ...dbEnv, NODE_ENV: 'development', LOG_LEVEL: 'info' }, { tty: true });
    await server.stop();
    const output = server.logs();
    expect(output).toMatch(/INFO.*Listening on http:\/\/127\.0\.0\.1:\d+ — docs/);
    expect(output).not.toContain('{"level"');
  });
  /* eslint-enable jest/no-standalone-expect */
});

describe('readableConsole: where logs are readable lines rather than JSON', () => {
  it.each([
    ['development', true, true],
    ['development', false, false],
    ['development', undefined, false],
    ['production', true, false],
    ['test', true, false],
  ])('NODE_ENV=%s, stdout a TTY: %s → %s', (nodeEnv, isTTY, readable) => {
    expect(readableConsole(nodeEnv, isTTY)).toBe(readable);
  });
});
