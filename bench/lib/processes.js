'use strict';
// The servers under test, as child processes of the harness. Every child is tracked so
// that cleanup (normal end, error, Ctrl-C) can end it.
const { fork } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const children = new Set();

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Forks a Node script; keeps the last few KB of its output for error messages. */
function spawnNode(name, script, env) {
  const child = fork(script, [], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  children.add(child);
  exited.then(() => children.delete(child));
  return {
    name,
    child,
    exited,
    output: () => output,
    /** Rejects if the child exits before `promise` settles, with the child's last output. */
    orExit: (promise) =>
      Promise.race([
        promise,
        exited.then(({ code, signal }) => {
          throw new Error(`${name} exited (${signal ?? code}) during start-up:\n${output.trim()}`);
        }),
      ]),
  };
}

async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** The app with the baseline routes (bench/baseline, compiled by run.js), ready once GET /health answers 200. */
async function startApp(name, env) {
  const port = await freePort();
  const proc = spawnNode(name, path.join(__dirname, '..', 'baseline', 'dist', 'bench', 'baseline', 'main.js'), {
    ...process.env,
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  const url = `http://127.0.0.1:${port}`;
  await proc.orExit(waitFor(`${name} GET /health 200`, async () => (await fetch(`${url}/health`)).status === 200));
  return { ...proc, url };
}

/** The bare NestJS + Fastify app (bench/bare-nest): the framework's ceiling. */
async function startBare() {
  const port = await freePort();
  const proc = spawnNode('bare-nest', path.join(__dirname, '..', 'bare-nest', 'dist', 'main.js'), { ...process.env, PORT: String(port) });
  await proc.orExit(new Promise((resolve) => proc.child.once('message', resolve)));
  return { ...proc, url: `http://127.0.0.1:${port}` };
}

/**
 * examples/protected-service: another NestJS service, guarded by @nest-auth-backend/client
 * (JWKS + the revocation feed of `env.AUTH_SERVER_URL`); ready once its feed is live.
 */
async function startExample(env) {
  const port = await freePort();
  const proc = spawnNode('protected-service', path.join(ROOT, 'examples', 'protected-service', 'dist', 'main.js'), {
    ...process.env,
    ...env,
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  await proc.orExit(waitFor('protected-service: revocation feed live', async () => (await (await fetch(`${url}/health`)).json()).revocations === 'live'));
  return { ...proc, url };
}

/** The Nest docs recipe (bench/nest-docs-recipe); it sends its token over IPC when listening. */
async function startRecipe() {
  const port = await freePort();
  const proc = spawnNode('nest-docs-recipe', path.join(__dirname, '..', 'nest-docs-recipe', 'dist', 'main.js'), {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
  });
  const message = await proc.orExit(new Promise((resolve) => proc.child.once('message', resolve)));
  return { ...proc, url: `http://127.0.0.1:${port}`, accessToken: message.accessToken };
}

/** The stateless peer (bench/stateless-peer); it sends its token over IPC when listening. */
async function startPeer() {
  const port = await freePort();
  const proc = spawnNode('stateless-peer', path.join(__dirname, '..', 'stateless-peer', 'dist', 'main.js'), {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
  });
  const message = await proc.orExit(new Promise((resolve) => proc.child.once('message', resolve)));
  return { ...proc, url: `http://127.0.0.1:${port}`, accessToken: message.accessToken };
}

async function stop(proc) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
  await proc.exited;
  clearTimeout(timer);
}

/** Last resort, synchronous (process 'exit'): whatever is still running gets SIGKILL. */
function killAll() {
  for (const child of children) child.kill('SIGKILL');
}

module.exports = { ROOT, freePort, startApp, startBare, startExample, startPeer, startRecipe, stop, killAll };
