import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_SECRET } from './test-app';
import { createTestDatabase, type TestDatabase } from './test-database';
import { sleep, within } from './wait';

const ROOT = resolve(__dirname, '..', '..');

/**
 * The production build of the server (`node dist/main.js`), compiled by tsc from the
 * sources under test into a temporary directory, for the specs that need a real
 * process (SIGKILL, SIGTERM, exit codes). The directory gets links to node_modules,
 * prisma/ and mail-templates/ so that the build resolves its packages and finds its migrations exactly as
 * `dist/` in the repository does. Type errors are `npm run typecheck`'s business:
 * the build only has to produce JavaScript.
 */
export class ServerBuild {
  private constructor(
    readonly dir: string,
    private readonly entry = 'main.js',
  ) {}

  /**
   * A server of your own, as examples/notes is: `npx tsc -p <project>` (here with
   * `--outDir` a temporary directory), run as `node dist/<entry>`.
   */
  static createExample(project: string, entry: string): ServerBuild {
    const dir = mkdtempSync(join(tmpdir(), 'example-build-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    symlinkSync(join(ROOT, 'prisma'), join(dir, 'prisma'), 'dir');
    symlinkSync(join(ROOT, 'mail-templates'), join(dir, 'mail-templates'), 'dir');
    const tsc = require.resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, project), '--outDir', join(dir, 'dist')], { cwd: ROOT, encoding: 'utf8' });
    if (!existsSync(join(dir, 'dist', entry))) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`tsc produced no dist/${entry}:\n${result.stdout}\n${result.stderr}`);
    }
    return new ServerBuild(dir, entry);
  }

  static create(): ServerBuild {
    const dir = mkdtempSync(join(tmpdir(), 'auth-build-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    symlinkSync(join(ROOT, 'prisma'), join(dir, 'prisma'), 'dir');
    symlinkSync(join(ROOT, 'mail-templates'), join(dir, 'mail-templates'), 'dir');
    const tsc = require.resolve('typescript/bin/tsc');
    buildPackages();
    const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist'), '--sourceMap', 'false'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (!existsSync(join(dir, 'dist', 'main.js'))) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`tsc produced no dist/main.js:\n${result.stdout}\n${result.stderr}`);
    }
    return new ServerBuild(dir);
  }

  get main(): string {
    return join(this.dir, 'dist', this.entry);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A build of the server and a database of its own, for the server processes of one `describe`; every process is SIGKILLed after. */
export function useServerBuild(create: () => ServerBuild = () => ServerBuild.create()): { build: ServerBuild; db: TestDatabase } {
  const ctx = {} as { build: ServerBuild; db: TestDatabase };
  beforeAll(async () => {
    ctx.build = create();
    ctx.db = await createTestDatabase();
  }, 180_000);
  afterAll(async () => {
    await ServerProcess.killAll();
    ctx.build?.remove();
    await ctx.db?.drop();
  });
  return ctx;
}

/**
 * The workspace packages (packages/*), which the build requires from node_modules as an
 * installed package: `tsc -b` builds what changed since their last build (npm install did the first).
 */
export function buildPackages(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-b', 'packages/token-contract', 'packages/revocation-window', 'packages/nest-auth-client'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`tsc -b packages failed:\n${result.stdout}\n${result.stderr}`);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The APP_URL of every server process: instances of one deployment share it (it is the
 * issuer of their tokens), whatever port each listens on.
 */
export const SERVER_APP_URL = 'http://auth.test';

/** One run of `node dist/main.js` on a test database, on a port of its own. */
export class ServerProcess {
  private static readonly running = new Set<ServerProcess>();
  private output = '';
  readonly exited: Promise<Exit>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    ServerProcess.running.add(this);
    void this.exited.then(() => ServerProcess.running.delete(this));
  }

  /** Starts the server and resolves once GET /health answers 200. */
  static async start(build: ServerBuild, db: TestDatabase, env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<ServerProcess> {
    const port = await freePort();
    const server = new ServerProcess(spawnServer(build, db, { PORT: String(port), ...env }, options), `http://127.0.0.1:${port}`);
    await server.waitUntilHealthy();
    return server;
  }

  /** Starts the server and waits for it to exit on its own: for a start-up that must fail. */
  static async run(build: ServerBuild, db: TestDatabase, env: Record<string, string> = {}): Promise<{ exit: Exit; output: string }> {
    const port = await freePort();
    const server = new ServerProcess(spawnServer(build, db, { PORT: String(port), ...env }), `http://127.0.0.1:${port}`);
    // 'close': the exit, and all of its output read.
    const closed = new Promise((resolve) => server.child.once('close', resolve));
    const timer = setTimeout(() => server.kill('SIGKILL'), 60_000);
    const exit = await server.exited;
    await closed;
    clearTimeout(timer);
    return { exit, output: server.logs() };
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything the process wrote to stdout and stderr. */
  logs(): string {
    return this.output;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM, then the exit. */
  async stop(): Promise<Exit> {
    this.kill('SIGTERM');
    return this.exited;
  }

  /** SIGKILLs every server still running: for afterAll, whatever happened before. */
  static async killAll(): Promise<void> {
    const all = [...ServerProcess.running];
    all.forEach((s) => s.kill('SIGKILL'));
    await Promise.all(all.map((s) => s.exited));
  }

  private async waitUntilHealthy(): Promise<void> {
    let exit: Exit | undefined;
    void this.exited.then((e) => (exit = e));
    // Start-up (migrations, PGlite on disk) takes a few seconds at most; 60 s is the bound.
    for (let attempt = 0; attempt < 300; attempt++) {
      if (exit) throw new Error(`server exited during start-up (${JSON.stringify(exit)}):\n${this.output}`);
      try {
        const res = await fetch(`${this.baseUrl}/health`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    this.kill('SIGKILL');
    throw new Error(`server did not become healthy:\n${this.output}`);
  }
}

export interface SpawnOptions {
  /** On a pseudo-terminal (util-linux `script`), as a person at a terminal runs it: see hasScript. */
  tty?: boolean;
}

/** Whether `script` (util-linux) is there to give a process a terminal. */
export const hasScript = (): boolean => spawnSync('script', ['--version']).status === 0;

function spawnServer(build: ServerBuild, db: TestDatabase, env: Record<string, string>, options: SpawnOptions = {}): ChildProcess {
  const [command, args] = options.tty ? ['script', ['-qec', `exec '${process.execPath}' '${build.main}'`, '/dev/null']] : [process.execPath, [build.main]];
  return spawn(command, args, {
    // Its own directory: no developer's .env is picked up.
    cwd: build.dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      AUTH_SECRET: TEST_SECRET,
      HOST: '127.0.0.1',
      APP_URL: SERVER_APP_URL,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_LOGIN: '0',
      RATE_LIMIT_REGISTER: '0',
      ...db.env,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface CommandResult {
  code: number | null;
  output: string;
}

/**
 * Runs a command of the build (`node dist/….cli.js`) as `npm run …` does, on the spec's
 * database, and collects what it printed. A command that is still running after a
 * minute is killed and reported as such (a bound for liveness, not a speed check).
 */
export async function runCommand(
  build: ServerBuild,
  script: string,
  db: TestDatabase,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<CommandResult> {
  const child = spawn(process.execPath, [join(build.dir, 'dist', script), ...args], {
    // The build's directory: no developer's .env is picked up.
    cwd: build.dir,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', AUTH_SECRET: TEST_SECRET, ...db.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<CommandResult>((resolve) => child.on('close', (code) => resolve({ code, output })));
  const result = await within(exited, 60_000, 'still running');
  if (typeof result !== 'string') return result;
  child.kill('SIGKILL');
  return { code: null, output: `${output}\n(killed: still running after 60 s)` };
}
