import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildPackages, freePort } from './server-process';
import { sleep } from './wait';

const ROOT = resolve(__dirname, '..', '..');

/**
 * examples/protected-service built as its users would build it (tsc, against the built
 * @nest-auth-backend/client package) into a temporary directory, and run as a process.
 */
export class ExampleProcess {
  private output = '';
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    private readonly dir: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((done) => child.on('exit', () => done()));
  }

  static async start(env: Record<string, string>): Promise<ExampleProcess> {
    buildPackages();
    const dir = mkdtempSync(join(tmpdir(), 'protected-service-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const tsc = require.resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'examples/protected-service'), '--outDir', join(dir, 'dist')], { cwd: ROOT, encoding: 'utf8' });
    if (!existsSync(join(dir, 'dist', 'main.js'))) throw new Error(`tsc produced no main.js:\n${result.stdout}\n${result.stderr}`);
    const port = await freePort();
    const child = spawn(process.execPath, [join(dir, 'dist', 'main.js')], {
      cwd: dir,
      env: { PATH: process.env.PATH, PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const example = new ExampleProcess(child, `http://127.0.0.1:${port}`, dir);
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

  logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
