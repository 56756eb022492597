'use strict';
/**
 * `npm run bench`: every scenario one after another, on this
 * machine, in this process tree, against a throwaway PostgreSQL (or BENCH_DATABASE_URL).
 *
 *   0  GET /ping            a bare NestJS 12 + Fastify app, one route (bench/bare-nest): the ceiling
 *   1  GET /bench/ping      trivial public route of this app: what every request pays here
 *   2  GET /auth/me         this project's guard
 *   P  GET /auth/me         the stateless peer: the same stack (NestJS 12 + Fastify), passport-jwt
 *                           with an ES256 KeyObject, no revocation at all (bench/stateless-peer)
 *   S  GET /whoami          another NestJS service (examples/protected-service) guarded by
 *                           @nest-auth-backend/client: JWKS + revocation feed, no call per request
 *   F  GET /auth/me         the same on an instance whose revocation memory is never trusted
 *                           (its LISTEN connection cannot connect): the database fallback
 *   3  GET /bench/me-db     baseline guard that looks the session up in the database
 *   4  GET /profile         the Nest docs' passport-jwt recipe (Express), bench/nest-docs-recipe
 *   R  POST /auth/refresh   one refresh-token chain per connection
 *   RH POST /auth/refresh   the same with a webhook and a back-channel client registered
 *   outbox: POST /auth/logout without and with a webhook + a back-channel client (two outbox
 *           rows a logout, delivered to a receiver in this process)
 *   signin: sign-ins a second, a password sign-in (POST /auth/login) beside a two-step one
 *           (the password, then POST /auth/login/mfa with a TOTP code computed here) and a
 *           usernameless passkey sign-in (a software authenticator here, bench/lib/soft-authenticator.js)
 *   and the revocation delay between two instances sharing the database, healthy and
 *   with the second instance's LISTEN connection silently partitioned.
 * The app runs at the production defaults (NODE_ENV=production, LOG_LEVEL=info: one
 * access-log line per request).
 *
 * Env: BENCH_ONLY (e.g. `2,R,memory`), BENCH_DURATION (seconds per run, default 10), BENCH_QUICK=1 (2 s runs),
 * BENCH_CONNECTIONS (50), BENCH_DATABASE_URL (skip the throwaway cluster), BENCH_PG_BIN.
 * Results: printed as markdown, and written to bench/results/latest.json.
 */
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startCluster, openStats } = require('./lib/postgres');
const { ROOT, freePort, startApp, startBare, startExample, startPeer, startRecipe, stop, killAll } = require('./lib/processes');
const { startProxy } = require('./lib/proxy');
const { call, load, refreshChains, sweep } = require('./lib/load');
const { markdown, num } = require('./lib/report');
const { SoftAuthenticator } = require('./lib/soft-authenticator');

const quick = process.env.BENCH_QUICK === '1';
/** BENCH_ONLY=2,R,memory runs only those scenarios (ids of the table; revocation, partition, memory, signin, outbox: it runs RH). */
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((id) => id.trim()) : undefined;
const wanted = (id) => !only || only.includes(id) || (id === 'RH' && only.includes('outbox'));
const duration = Number(process.env.BENCH_DURATION || (quick ? 2 : 10));
const settings = {
  duration,
  warmup: quick ? 1 : Math.min(3, Math.max(1, Math.round(duration / 5))),
  connections: Number(process.env.BENCH_CONNECTIONS || 50),
  revocationRounds: quick ? 3 : 10,
};
if (!(settings.duration > 0 && settings.connections > 0)) throw new Error('BENCH_DURATION and BENCH_CONNECTIONS must be positive numbers');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secret = () => randomBytes(24).toString('base64url');

// Whatever happens (error, Ctrl-C), no server outlives the harness.
let cluster;
process.on('exit', () => {
  killAll();
  cluster?.stop();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));

/** Compiles a bench/ project (the docs recipe; the app with the baseline routes). */
function build(project) {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, project, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench/${project} does not compile`);
}

/** The client module (workspace packages) and examples/protected-service, as a user builds them. */
function buildExample() {
  const tsc = require.resolve('typescript/bin/tsc');
  const steps = [
    ['-b', 'packages/token-contract', 'packages/revocation-window', 'packages/nest-auth-client'],
    ['-p', 'examples/protected-service'],
  ];
  for (const args of steps) {
    const r = spawnSync(process.execPath, [tsc, ...args], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`tsc ${args.join(' ')} failed`);
  }
}

async function main() {
  build('nest-docs-recipe');
  build('bare-nest');
  build('stateless-peer');
  build('baseline');
  if (wanted('S')) buildExample();

  cluster = process.env.BENCH_DATABASE_URL ? undefined : await startCluster();
  const databaseUrl = process.env.BENCH_DATABASE_URL || cluster.url;
  const stats = await openStats(databaseUrl);

  const runId = randomBytes(4).toString('hex'); // unique emails, should the database be reused
  const admin = { email: `bench-admin-${runId}@example.com`, password: `Adm1n-${secret()}` };
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    AUTH_SECRET: randomBytes(48).toString('base64url'), // shared: both open the signing keys they share
    APP_URL: 'http://bench.test', // shared: the issuer of A's tokens is B's too, whatever their ports
    LOG_LEVEL: 'info', // the production default: an access-log line per request
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_REGISTER: '0',
    RATE_LIMIT_REFRESH: '0', // the refresh run sends thousands of refreshes a minute from one IP
    ACCESS_TOKEN_TTL: '1h', // runs 2 and 3 share one token, whatever BENCH_DURATION
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', // the outbox scenario's receiver is on loopback
  };

  const runs = {};
  let revocation;
  let partition;
  let memory;
  let outbox;
  let signIns;
  const apps = [];
  try {
    const a = await startApp('app A', env);
    apps.push(a);

    /** Registers a user; returns its credentials, id and first token response. */
    const register = async (name) => {
      const user = { email: `bench-${name}-${runId}@example.com`, password: `Bench-${secret()}` };
      const tokens = await call(a.url, 'POST', '/auth/register', { body: { ...user, name }, expect: 201 });
      return { ...user, id: tokens.user.id, tokens };
    };

    /**
     * One scenario: `prepare` returns the target. A request that must succeed comes first
     * (a clear error beats a table of 404s), then a discarded warm-up, the measured run
     * and, for the app, the statements the database ran meanwhile. A failure is recorded
     * and the next scenario goes on.
     */
    const measure = async (id, label, prepare) => {
      if (!wanted(id)) return;
      let target;
      try {
        target = await prepare();
        if (target.preflight !== false) await call(target.url, 'GET', target.path, { token: target.token });
        const options = {
          url: target.url,
          path: target.path,
          headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
          setupClient: target.setupClient,
          connections: settings.connections,
        };
        await load({ ...options, ...target.warmup, duration: settings.warmup });
        const before = target.app && stats.method ? await stats.snapshot() : undefined;
        const result = await load({ ...options, duration: settings.duration });
        let db;
        if (before) {
          const { total, top } = stats.diff(before, await stats.snapshot());
          db = { method: stats.method, queries: total, perRequest: total / result.sent, top };
        }
        // A run with failed requests measured something else (404s, 401s, 429s...).
        const failed = result.non2xx + result.errors + result.timeouts;
        runs[id] = { label, path: target.path, valid: failed === 0, failed, ...result, db };
      } catch (error) {
        runs[id] = { label, error: error.message };
      } finally {
        await target?.cleanup?.();
      }
    };

    await measure('0', 'GET /ping — bare NestJS 12 + Fastify app (ceiling)', async () => {
      const bare = await startBare();
      return { url: bare.url, path: '/ping', cleanup: () => stop(bare) };
    });

    await measure('1', "GET /bench/ping — this app's trivial public route", async () => ({
      app: true,
      url: a.url,
      path: '/bench/ping',
    }));

    let member;
    await measure('2', "GET /auth/me — this project's guard", async () => {
      member = await register('member');
      return { app: true, url: a.url, path: '/auth/me', token: member.tokens.accessToken };
    });

    await measure('P', 'GET /auth/me — stateless peer: NestJS + Fastify, passport-jwt, ES256 KeyObject, no revocation', async () => {
      const peer = await startPeer();
      return { url: peer.url, path: '/auth/me', token: peer.accessToken, cleanup: () => stop(peer) };
    });

    await measure('S', 'GET /whoami — another service with @nest-auth-backend/client (examples/protected-service)', async () => {
      if (!member) throw new Error('no user (see run 2)');
      const adminToken = (await call(a.url, 'POST', '/auth/login', { body: admin })).accessToken;
      const client = await call(a.url, 'POST', '/admin/clients', { token: adminToken, body: { name: `bench-${runId}` }, expect: 201 });
      const example = await startExample({
        AUTH_ISSUER: env.APP_URL,
        AUTH_SERVER_URL: a.url,
        AUTH_CLIENT_ID: client.clientId,
        AUTH_CLIENT_SECRET: client.clientSecret,
      });
      // app: the auth server's database statements during the run (none expected: no call per request).
      return { app: true, url: example.url, path: '/whoami', token: member.tokens.accessToken, cleanup: () => stop(example) };
    });

    await measure('3', 'GET /bench/me-db — baseline: session looked up in the DB', async () => {
      if (!member) throw new Error('no user (see run 2)');
      return { app: true, url: a.url, path: '/bench/me-db', token: member.tokens.accessToken };
    });

    await measure('4', 'GET /profile — Nest docs passport-jwt recipe (Express)', async () => {
      // The docs sign tokens for 60 s, and the recipe mints its token when it starts.
      if (settings.warmup + settings.duration > 50) throw new Error('the recipe tokens live 60 s: BENCH_DURATION must be ≤ 45');
      const recipe = await startRecipe();
      return { url: recipe.url, path: '/profile', token: recipe.accessToken, cleanup: () => stop(recipe) };
    });

    await measure('F', 'GET /auth/me — database fallback (revocation memory not trusted)', async () => {
      if (!member) throw new Error('no user (see run 2)');
      // A LISTEN connection that can never connect: the lease is never granted.
      const deaf = await startApp('app F', { ...env, DATABASE_LISTEN_URL: `postgresql://nobody@127.0.0.1:${await freePort()}/none` });
      return { app: true, url: deaf.url, path: '/auth/me', token: member.tokens.accessToken, cleanup: () => stop(deaf) };
    });

    const refreshRun = (id, label) =>
      measure(id, label, async () => {
        const user = await register(`refresher-${id}`);
        const credentials = { email: user.email, password: user.password };
        /** Refresh tokens of `n` new sessions; logins are argon2-bound, so a few at a time. */
        const sessions = async (n) => {
          const tokens = [];
          while (tokens.length < n) {
            const batch = Array.from({ length: Math.min(4, n - tokens.length) }, () => call(a.url, 'POST', '/auth/login', { body: credentials }));
            for (const t of await Promise.all(batch)) tokens.push(t.refreshToken);
          }
          return tokens;
        };
        // One chain per connection. The warm-up gets chains of its own: the responses it
        // leaves in flight when it stops are lost, and with them the next link of a chain.
        const chains = await sessions(settings.connections);
        const warmupChains = await sessions(10);
        // The preflight: one rotation by hand.
        chains[0] = (await call(a.url, 'POST', '/auth/refresh', { body: { refreshToken: chains[0] } })).refreshToken;
        return {
          app: true,
          url: a.url,
          path: '/auth/refresh',
          preflight: false,
          setupClient: refreshChains(chains),
          warmup: { connections: warmupChains.length, setupClient: refreshChains(warmupChains) },
        };
      });
    await refreshRun('R', `POST /auth/refresh — rotation, ${settings.connections} independent chains`);

    if (wanted('outbox')) {
      // What the outbox rows of webhooks and back-channel logout cost the logouts that write them.
      const sink = await startSink();
      try {
        const adminToken = (await call(a.url, 'POST', '/auth/login', { body: admin })).accessToken;
        const user = await register('logouts');
        const hook = await call(a.url, 'POST', '/admin/webhooks', {
          token: adminToken,
          expect: 201,
          body: { url: `${sink.url}/webhook`, events: ['session.revoked', 'token.reuse_detected'] },
        });
        let client;
        /** Registers the webhook and a back-channel client (rows written), or neither (a client's URI cannot be changed: it is deleted). */
        const rows = async (on) => {
          await call(a.url, 'PATCH', `/admin/webhooks/${hook.id}`, { token: adminToken, body: { enabled: on } });
          if (client) await call(a.url, 'DELETE', `/admin/clients/${client.id}`, { token: adminToken, expect: 204 });
          client = on
            ? await call(a.url, 'POST', '/admin/clients', {
                token: adminToken,
                expect: 201,
                body: { name: `bench-bcl-${secret()}`, backchannelLogoutUri: `${sink.url}/backchannel` },
              })
            : undefined;
        };
        /** Waits for every delivery of `logouts`: how long after `from`, and how many a second. */
        const drained = async (before, logouts, from) => {
          await waitUntil(() => sink.count - before >= 2 * logouts, 60_000, 'every webhook and logout token delivered');
          const ms = performance.now() - from;
          return { ms, perSecond: (2 * logouts) / (ms / 1000) };
        };
        // Three kinds of round, alternating, so that none has the emptier tables or the warmer caches:
        // no rows; two rows a logout with the receiver stalled (the worker, its 32 slots taken, waits:
        // the rows' own cost); two rows a logout delivered as they come (the rows and their delivery
        // on the same two cores).
        const rounds = { without: [], stalled: [], live: [] };
        const drains = [];
        for (let round = 0; round < 2; round++) {
          await rows(false);
          rounds.without.push(await measureLogouts(a, user));
          await rows(true);
          let before = sink.count;
          sink.stall();
          rounds.stalled.push(await measureLogouts(a, user));
          const released = performance.now();
          sink.release();
          drains.push(await drained(before, LOGOUTS, released));
          before = sink.count;
          const live = await measureLogouts(a, user);
          live.drainedMsAfterLast = (await drained(before, live.logouts, performance.now())).ms;
          rounds.live.push(live);
        }
        const mean = (list, key) => list.reduce((sum, r) => sum + r[key], 0) / list.length;
        const summary = (list) => ({
          logouts: list[0].logouts,
          rounds: list.length,
          perSecond: mean(list, 'perSecond'),
          p50: mean(list, 'p50'),
          p99: mean(list, 'p99'),
        });
        outbox = {
          without: summary(rounds.without),
          stalled: summary(rounds.stalled),
          live: { ...summary(rounds.live), drainedMsAfterLast: Math.max(...rounds.live.map((r) => r.drainedMsAfterLast)) },
          drain: { deliveries: 2 * LOGOUTS, perSecond: mean(drains, 'perSecond') },
        };
        await refreshRun('RH', 'POST /auth/refresh — with a webhook and a back-channel client registered');
        await rows(false);
        await call(a.url, 'DELETE', `/admin/webhooks/${hook.id}`, { token: adminToken, expect: 204 });
      } catch (error) {
        outbox = { error: error.message };
      } finally {
        await sink.close();
      }
    }

    if (wanted('signin')) signIns = await measureSignIns(a, register, new URL(env.APP_URL).origin);
    if (wanted('revocation')) revocation = await measureRevocation(a, env, admin, register, apps);
    if (wanted('partition')) partition = await measurePartition(a, env, admin, register, databaseUrl);
    if (wanted('memory')) memory = await measureMemory(env, runId, apps);
  } finally {
    await Promise.all(apps.map(stop));
    await stats.close();
    cluster?.stop();
  }

  const report = summarize(runs, revocation, partition, memory, stats, outbox, signIns);
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${markdown(report)}\n\n(bench/results/latest.json)`);
  if (revocation?.error || memory?.error || signIns?.error || Object.values(runs).some((r) => !r.valid)) process.exitCode = 1;
}

/**
 * Starts instance B on the same database, then, a few times: the user logs in on A, its
 * token is checked on B, the admin force-logs it out on A while B is polled with that
 * token; the delay is from A's 204 arriving to B's first 401 arriving.
 */
async function measureRevocation(a, env, admin, register, apps) {
  try {
    const b = await startApp('app B', env);
    apps.push(b);
    const adminToken = (await call(a.url, 'POST', '/auth/login', { body: admin })).accessToken;
    const user = await register('revoked');
    const rounds = [];
    for (let i = 0; i < settings.revocationRounds; i++) {
      const token = (await call(a.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).accessToken;
      await call(b.url, 'GET', '/auth/me', { token });
      let sentAt = Infinity;
      let answeredAt;
      const poll = (async () => {
        for (;;) {
          const res = await fetch(`${b.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
          await res.arrayBuffer();
          const at = performance.now();
          if (res.status === 401) {
            if (at < sentAt) throw new Error('instance B refused the token before the force-logout');
            return at;
          }
          if (res.status !== 200) throw new Error(`GET /auth/me on B answered ${res.status}`);
          if (answeredAt !== undefined && at - answeredAt > 5000) throw new Error('B still accepts the token 5 s after the force-logout');
        }
      })();
      poll.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
      await sleep(20); // B is being polled before the force-logout starts
      sentAt = performance.now();
      await call(a.url, 'POST', `/admin/users/${user.id}/force-logout`, { token: adminToken, expect: 204 });
      answeredAt = performance.now();
      // B may refuse the token before A's 204 has reached us: that counts as no delay.
      rounds.push(Math.max(0, (await poll) - answeredAt));
    }
    const sorted = [...rounds].sort((x, y) => x - y);
    return { rounds, medianMs: sorted[Math.floor(sorted.length / 2)], maxMs: sorted.at(-1) };
  } catch (error) {
    return { error: error.message };
  }
}

/** Sign-ins per kind in the signin scenario, and how many at once (argon2 takes the cores: more at once only queue). */
const SIGNINS = quick ? 40 : 200;
const SIGNIN_CONCURRENCY = 8;
const TOTP_PERIOD = 30;
const totpStep = () => Math.floor(Date.now() / 1000 / TOTP_PERIOD);
/** The code an authenticator app shows during `step` (otplib's defaults are the otpauth URI's: SHA-1, 6 digits, 30 s). */
const totpCode = (secretKey, step) => require('otplib').generateSync({ secret: secretKey, epoch: step * TOTP_PERIOD });

/**
 * What a second factor costs a sign-in, and what a passkey does. Each kind runs SIGNINS
 * sign-ins, SIGNIN_CONCURRENCY at a time, alternating twice so that none has the emptier
 * tables: a password sign-in (POST /auth/login, one user), a two-step one (POST /auth/login
 * answers mfaRequired, then POST /auth/login/mfa with the code of the current step), and a
 * usernameless passkey sign-in (options, then the assertion). Each TOTP code is accepted
 * once per user, so each two-step sign-in is of a user of its own, enrolled beforehand
 * (confirmed with the previous step's code, leaving the current one unused). A passkey's
 * counter must grow, so each passkey signs in one at a time: one user (and authenticator)
 * per concurrent sign-in. `origin`: the server's WebAuthn origin (APP_URL's by default).
 */
async function measureSignIns(a, register, origin) {
  try {
    const password = await register('signin-password');
    /** A user with a passkey registered through the API (the registration's own token is recent), signed in with it once. */
    const withPasskey = async (i) => {
      const user = await register(`signin-passkey-${i}`);
      const authenticator = new SoftAuthenticator(origin);
      const creation = await call(a.url, 'POST', '/auth/passkeys/registration/options', { token: user.tokens.accessToken });
      const response = authenticator.create(creation.options);
      await call(a.url, 'POST', '/auth/passkeys/registration', {
        token: user.tokens.accessToken,
        body: { challengeId: creation.challengeId, response },
        expect: 201,
      });
      await passkeySignIn(authenticator); // the preflight: a port that the server refuses fails here, before any run
      return authenticator;
    };
    /** A usernameless sign-in: throws (the run fails) unless it opens a session. */
    const passkeySignIn = async (authenticator) => {
      const request = await call(a.url, 'POST', '/auth/passkeys/authentication/options', { body: {} });
      const answer = await call(a.url, 'POST', '/auth/passkeys/authentication', {
        body: { challengeId: request.challengeId, response: authenticator.get(request.options) },
      });
      if (!answer.accessToken) throw new Error('POST /auth/passkeys/authentication answered 200 without an access token');
    };
    const idle = [];
    while (idle.length < SIGNIN_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(4, SIGNIN_CONCURRENCY - idle.length) }, (_, i) => withPasskey(idle.length + i));
      idle.push(...(await Promise.all(batch)));
    }
    const enroll = async (i) => {
      const user = await register(`signin-totp-${i}`);
      const { secret: key } = await call(a.url, 'POST', '/auth/mfa/totp', { token: user.tokens.accessToken, expect: 201 });
      // The previous step's code; when a step ends meanwhile it is out of the window (400, nothing spent): once more.
      for (let attempt = 0; ; attempt++) {
        try {
          await call(a.url, 'POST', '/auth/mfa/totp/confirm', { token: user.tokens.accessToken, body: { code: totpCode(key, totpStep() - 1) } });
          break;
        } catch (error) {
          if (attempt > 0) throw error;
        }
      }
      return { email: user.email, password: user.password, key };
    };
    const rounds = { password: [], twoStep: [], passkey: [] };
    for (let round = 0; round < 2; round++) {
      const enrolled = [];
      while (enrolled.length < SIGNINS) {
        const batch = Array.from({ length: Math.min(4, SIGNINS - enrolled.length) }, (_, i) => enroll(`${round}-${enrolled.length + i}`));
        enrolled.push(...(await Promise.all(batch)));
      }
      rounds.password.push(
        await signInRun(SIGNINS, () => call(a.url, 'POST', '/auth/login', { body: { email: password.email, password: password.password } })),
      );
      let next = 0;
      rounds.twoStep.push(
        await signInRun(SIGNINS, async () => {
          const user = enrolled[next++];
          const first = await call(a.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } });
          if (!first.mfaRequired) throw new Error('POST /auth/login opened a session for a user with TOTP');
          await call(a.url, 'POST', '/auth/login/mfa', { body: { mfaToken: first.mfaToken, method: 'totp', code: totpCode(user.key, totpStep()) } });
        }),
      );
      rounds.passkey.push(
        await signInRun(SIGNINS, async () => {
          const authenticator = idle.pop();
          try {
            await passkeySignIn(authenticator);
          } finally {
            idle.push(authenticator);
          }
        }),
      );
    }
    const mean = (list, key) => list.reduce((sum, r) => sum + r[key], 0) / list.length;
    const summary = (list) => ({ signIns: SIGNINS, rounds: list.length, perSecond: mean(list, 'perSecond'), p50: mean(list, 'p50'), p99: mean(list, 'p99') });
    return { concurrency: SIGNIN_CONCURRENCY, password: summary(rounds.password), twoStep: summary(rounds.twoStep), passkey: summary(rounds.passkey) };
  } catch (error) {
    return { error: error.message };
  }
}

/** `n` runs of `signIn`, SIGNIN_CONCURRENCY at once: sign-ins a second and each one's latency (ms). */
async function signInRun(n, signIn) {
  const latencies = [];
  let started = 0;
  const from = performance.now();
  await Promise.all(
    Array.from({ length: SIGNIN_CONCURRENCY }, async () => {
      while (started < n) {
        started++;
        const at = performance.now();
        await signIn();
        latencies.push(performance.now() - at);
      }
    }),
  );
  const seconds = (performance.now() - from) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)];
  return { perSecond: n / seconds, p50: at(0.5), p99: at(0.99) };
}

/** Logouts per run of the outbox scenario, and how many at once. */
const LOGOUTS = quick ? 100 : 400;
const LOGOUT_CONCURRENCY = 10;

/**
 * LOGOUTS sessions of `user` (logins are argon2-bound: a few at a time), then each ended
 * with POST /auth/logout, LOGOUT_CONCURRENCY at once: logouts a second, and each one's latency.
 */
async function measureLogouts(a, user) {
  const tokens = [];
  while (tokens.length < LOGOUTS) {
    const batch = Array.from({ length: Math.min(4, LOGOUTS - tokens.length) }, () =>
      call(a.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } }),
    );
    for (const t of await Promise.all(batch)) tokens.push(t.accessToken);
  }
  const latencies = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: LOGOUT_CONCURRENCY }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++];
        const at = performance.now();
        await call(a.url, 'POST', '/auth/logout', { token, expect: 204 });
        latencies.push(performance.now() - at);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)];
  return { logouts: tokens.length, perSecond: tokens.length / seconds, p50: at(0.5), p99: at(0.99) };
}

/**
 * An HTTP receiver for the outbox scenario's webhooks and logout tokens: counts them and
 * answers 204, or, stalled, holds every request until released.
 */
async function startSink() {
  const http = require('node:http');
  let held;
  const sink = {
    count: 0,
    stall: () => (held = []),
    release: () => {
      const waiting = held;
      held = undefined;
      waiting.forEach((answer) => answer());
    },
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = () => {
        sink.count++;
        res.writeHead(204).end();
      };
      if (held) held.push(answer);
      else answer();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${server.address().port}`;
  sink.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return sink;
}

async function waitUntil(check, ms, what) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(50);
  }
}

/** Distinct tokens of the memory run: the verification cache's bound (MAX_VERIFIED_TOKENS), then some. */
const CACHE_BOUND = 100_000; // MAX_VERIFIED_TOKENS, src/auth/tokens/verified-tokens.ts
const MEMORY_TOKENS = quick ? 10_000 : 100_000;
const MEMORY_EXTRA = quick ? 2_000 : 20_000;

/** The refresh throughput measured on 2026-11-23 on this kind of machine (2-core AMD EPYC), before the one-statement rotation. */
const REFRESH_BEFORE = 676;

/**
 * A silent partition: instance P's LISTEN connection goes through a proxy that stops
 * forwarding without closing. A user's token is checked on P; the proxy goes silent; the
 * admin force-logs the user out on A while P is polled. Measured: from A's 204 to P's
 * first 401, and how many 200s P gave after the 204. A fresh proxy and instance per round.
 */
async function measurePartition(a, env, admin, register, databaseUrl) {
  const rounds = [];
  try {
    const adminToken = (await call(a.url, 'POST', '/auth/login', { body: admin })).accessToken;
    const user = await register('partitioned');
    const db = new URL(databaseUrl);
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const proxy = await startProxy(db.hostname, Number(db.port || 5432));
      const listenUrl = new URL(databaseUrl);
      listenUrl.hostname = '127.0.0.1';
      listenUrl.port = String(proxy.port);
      const p = await startApp('app P', { ...env, DATABASE_LISTEN_URL: listenUrl.toString() });
      try {
        const token = (await call(a.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).accessToken;
        await call(p.url, 'GET', '/auth/me', { token });
        await sleep(300); // P has certified its memory at least once
        proxy.silence();
        await call(a.url, 'POST', `/admin/users/${user.id}/force-logout`, { token: adminToken, expect: 204 });
        const answeredAt = performance.now();
        let accepted = 0;
        for (;;) {
          const res = await fetch(`${p.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
          await res.arrayBuffer();
          if (res.status === 401) break;
          if (res.status !== 200) throw new Error(`GET /auth/me on P answered ${res.status}`);
          accepted++;
          if (performance.now() - answeredAt > 10_000) throw new Error('P still accepts the token 10 s after the force-logout');
        }
        rounds.push({ ms: performance.now() - answeredAt, accepted });
      } finally {
        await stop(p);
        proxy.close();
      }
    }
    const max = Math.max(...rounds.map((r) => r.ms));
    return { rounds, maxMs: max, maxAccepted: Math.max(...rounds.map((r) => r.accepted)) };
  } catch (error) {
    return { rounds, error: error.message };
  }
}

/**
 * Memory under many distinct tokens, on an instance of its own (M, same database): its
 * own signer mints `MEMORY_TOKENS` access tokens (each for a session of its own), each
 * is sent once to GET /auth/me, so each is verified and cached once; then more than the
 * cache holds, to show the bound; then every one of the first tokens' sessions is ended
 * through the revocation path (events in transactions, as logouts write them) and a
 * sample of those tokens must be refused. Heap read after a full collection each time.
 */
async function measureMemory(env, runId, apps) {
  const stages = [];
  try {
    const m = await startApp('app M', { ...env, BODY_LIMIT: String(4 * 1024 * 1024) });
    apps.push(m);
    const user = await call(m.url, 'POST', '/auth/register', {
      body: { email: `bench-memory-${runId}@example.com`, password: `Bench-${secret()}` },
      expect: 201,
    });
    const userId = user.user.id;
    const reading = async (stage, extra = {}) => stages.push({ stage, ...(await call(m.url, 'GET', '/bench/memory')), ...extra });
    const mint = async (count) => {
      const all = { sessionIds: [], tokens: [] };
      for (let done = 0; done < count; done += 5_000) {
        const batch = await call(m.url, 'POST', '/bench/tokens', { body: { userId, count: Math.min(5_000, count - done) }, expect: 201 });
        all.sessionIds.push(...batch.sessionIds);
        all.tokens.push(...batch.tokens);
      }
      return all;
    };
    const send = async (tokens, expect) => {
      const result = await sweep({ url: m.url, path: '/auth/me', tokens, connections: settings.connections });
      const expected = result.statuses[expect] ?? 0;
      if (expected !== tokens.length) throw new Error(`GET /auth/me: ${expected} of ${tokens.length} answered ${expect} (${JSON.stringify(result.statuses)})`);
      return result.rps;
    };

    await reading('started');
    const first = await mint(MEMORY_TOKENS);
    const rps = await send(first.tokens, 200);
    await reading(`${num(MEMORY_TOKENS)} distinct tokens, each sent once`, { rps });
    const more = await mint(MEMORY_EXTRA);
    await send(more.tokens, 200);
    await reading(`${num(MEMORY_EXTRA)} more${MEMORY_TOKENS >= CACHE_BOUND ? " (past the cache's bound)" : ''}`);
    for (let i = 0; i < first.sessionIds.length; i += 2_000) {
      await call(m.url, 'POST', '/bench/revocations', { body: { userId, sessionIds: first.sessionIds.slice(i, i + 2_000) }, expect: 204 });
    }
    const sample = first.tokens.filter((_, i) => i % Math.ceil(first.tokens.length / 1_000) === 0);
    await send(sample, 401);
    await reading(`the first ${num(MEMORY_TOKENS)} sessions ended`, { refused: `${sample.length} of ${sample.length} sampled tokens 401` });
    return { stages };
  } catch (error) {
    return { stages, error: error.message };
  }
}

function summarize(runs, revocation, partition, memory, stats, outbox, signIns) {
  const rps = (id) => (runs[id]?.valid ? runs[id].rps : undefined);
  const ratio = (x, y) => (rps(x) && rps(y) ? rps(x) / rps(y) : undefined);
  const ratios = {
    "1/0 (this app's trivial route vs bare Nest)": ratio('1', '0'),
    '2/0 (guard vs bare Nest)': ratio('2', '0'),
    '2/P (guard vs a stateless passport-jwt peer, no revocation)': ratio('2', 'P'),
    "2/1 (guard vs this app's trivial route)": ratio('2', '1'),
    '2/3 (vs DB lookup)': ratio('2', '3'),
    '2/4 (vs docs recipe)': ratio('2', '4'),
    'F/2 (fallback vs memory)': ratio('F', '2'),
    'S/0 (another service with the client module vs bare Nest)': ratio('S', '0'),
    "S/2 (another service with the client module vs this server's /auth/me)": ratio('S', '2'),
    [`R/${REFRESH_BEFORE} (refresh vs 2026-11-23)`]: rps('R') && rps('R') / REFRESH_BEFORE,
    'RH/R (refresh with a webhook and a back-channel client registered vs without)': ratio('RH', 'R'),
    'logouts/s with two outbox rows each (receiver stalled) vs none': outbox?.stalled && outbox.stalled.perSecond / outbox.without.perSecond,
    'logouts/s with two outbox rows each, delivered meanwhile, vs none': outbox?.live && outbox.live.perSecond / outbox.without.perSecond,
    'two-step sign-ins/s (password + TOTP) vs password sign-ins/s': signIns?.twoStep && signIns.twoStep.perSecond / signIns.password.perSecond,
    'passkey sign-ins/s (usernameless) vs password sign-ins/s': signIns?.passkey && signIns.passkey.perSecond / signIns.password.perSecond,
  };
  const r2 = runs['2']?.valid ? runs['2'] : undefined;
  const check = (value, ok) => (value === undefined ? undefined : ok(value));
  const perRequest = r2?.db?.perRequest;
  const targets = [
    { target: 'run 2 ≥ 0.6 × run 0 (bare Nest)', value: ratios['2/0 (guard vs bare Nest)'], ok: (v) => v >= 0.6, show: (v) => `${num(v, 2)}×` },
    { target: 'run 2 ≥ 0.5 × run 0 (bare Nest; issue 25)', value: ratios['2/0 (guard vs bare Nest)'], ok: (v) => v >= 0.5, show: (v) => `${num(v, 2)}×` },
    {
      target: 'run 2 ≥ 1.5 × run P (stateless passport-jwt peer)',
      value: ratios['2/P (guard vs a stateless passport-jwt peer, no revocation)'],
      ok: (v) => v >= 1.5,
      show: (v) => `${num(v, 2)}×`,
    },
    {
      target: 'run 1 ≥ 0.8 × run 0 (bare Nest)',
      value: ratios["1/0 (this app's trivial route vs bare Nest)"],
      ok: (v) => v >= 0.8,
      show: (v) => `${num(v, 2)}×`,
    },
    { target: `refresh ≥ 2 × ${REFRESH_BEFORE}/s`, value: rps('R'), ok: (v) => v >= 2 * REFRESH_BEFORE, show: (v) => `${num(v)}/s` },
    { target: 'stale acceptance under a silent partition ≤ 1 s', value: partition?.maxMs, ok: (v) => v <= 1000, show: (v) => `${num(v)} ms (max)` },
    { target: 'run 2 ≥ 3× run 3', value: ratios['2/3 (vs DB lookup)'], ok: (v) => v >= 3, show: (v) => `${num(v, 2)}×` },
    { target: 'run 2 ≥ 10× run 4', value: ratios['2/4 (vs docs recipe)'], ok: (v) => v >= 10, show: (v) => `${num(v, 2)}×` },
    // Background statements (a cleanup job, a LISTEN) may fall in the window: well under 0.005/request.
    { target: 'DB queries per authenticated request (run 2) = 0', value: perRequest, ok: (v) => v < 0.005, show: (v) => num(v, 3) },
    { target: 'p99 of run 2 ≤ 10 ms', value: r2?.p99, ok: (v) => v <= 10, show: (v) => `${num(v, 1)} ms` },
    {
      target: 'p99 of run 2 ≤ 3 × p99 of run 0 (bare Nest)',
      value: r2 && runs['0']?.valid ? r2.p99 / runs['0'].p99 : undefined,
      ok: (v) => v <= 3,
      show: (v) => `${num(v, 2)}×`,
    },
    { target: 'revocation seen by another instance < 1 s', value: revocation?.maxMs, ok: (v) => v < 1000, show: (v) => `${num(v, 1)} ms (max)` },
  ].map(({ target, value, ok, show }) => ({ target, measured: value === undefined ? '—' : show(value), met: check(value, ok) }));

  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus.length,
      node: process.version,
      postgres: stats.version,
      database: process.env.BENCH_DATABASE_URL ? 'BENCH_DATABASE_URL' : 'local throwaway cluster',
      os: `${os.type()} ${os.release()}`,
    },
    settings: { ...settings, queryCounting: stats.method ?? 'none (pg_stat_statements not preloaded)' },
    runs,
    ratios,
    revocation,
    partition,
    memory,
    outbox,
    signIns,
    targets,
  };
}

main().catch((error) => {
  console.error(`bench: ${error.stack || error.message}`);
  process.exit(1);
});
