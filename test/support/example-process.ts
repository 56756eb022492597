import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildPackages, freePort } from './server-process';
import { sleep } from './wait';

const ROOT = resolve(__dirname, '..', '..');

/** The compiled example, once per spec file (a worker process): removed when it exits. */
let compiled: string | undefined;

/**
 * examples/protected-service built as examples/README.md says (`npx tsc -b
 * packages/token-contract packages/revocation-window packages/nest-auth-client`, then `npx tsc -p
 * examples/protected-service`), into a temporary directory, and run as `node dist/main.js`.
 * Its node_modules links the repository's packages, except @nest-auth-backend/*, linked
 * to this checkout's packages/ (as `npm install` links them): in a git worktree whose
 * node_modules is another checkout's, the example still runs the client module under test.
 */
function build(): string {
  if (compiled) return compiled;
  buildPackages();
  const dir = mkdtempSync(join(tmpdir(), 'protected-service-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@nest-auth-backend'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry !== '@nest-auth-backend') symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  symlinkSync(join(ROOT, 'packages', 'nest-auth-client'), join(modules, '@nest-auth-backend', 'client'), 'dir');
  symlinkSync(join(ROOT, 'packages', 'revocation-window'), join(modules, '@nest-auth-backend', 'revocation-window'), 'dir');
  symlinkSync(join(ROOT, 'packages', 'token-contract'), join(modules, '@nest-auth-backend', 'token-contract'), 'dir');
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'examples/protected-service'), '--outDir', join(dir, 'dist')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (!existsSync(join(dir, 'dist', 'main.js'))) throw new Error(`tsc produced no main.js:\n${result.stdout}\n${result.stderr}`);
  return (compiled = dir);
}

/** examples/protected-service as a process of its own, on a port of its own. */
export class ExampleProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));
  }

  private static async spawn(env: Record<string, string>): Promise<ExampleProcess> {
    const dir = build();
    const port = await freePort();
    const child = spawn(process.execPath, [join(dir, 'dist', 'main.js')], {
      cwd: dir,
      env: { PATH: process.env.PATH, PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ExampleProcess(child, `http://127.0.0.1:${port}`);
  }

  /** Starts the example and resolves once GET /health answers 200. */
  static async start(env: Record<string, string>): Promise<ExampleProcess> {
    const example = await ExampleProcess.spawn(env);
    for (let attempt = 0; attempt < 300; attempt++) {
      try {
        if ((await fetch(`${example.baseUrl}/health`)).status === 200) return example;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    example.child.kill('SIGKILL');
    throw new Error(`the example did not start:\n${example.output}`);
  }

  /** Starts the example and waits for it to exit on its own: for a start-up that must fail. */
  static async run(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const example = await ExampleProcess.spawn(env);
    // 'close': the exit, and all of its output read.
    const closed = new Promise((done) => example.child.once('close', done));
    const timer = setTimeout(() => example.child.kill('SIGKILL'), 30_000);
    const { code } = await example.exited;
    await closed;
    clearTimeout(timer);
    return { code, output: example.output };
  }

  logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
