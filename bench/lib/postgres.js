'use strict';
// The benchmark's PostgreSQL: a throwaway cluster on loopback (as .ci/run starts one),
// or the server at BENCH_DATABASE_URL; and the count of the statements the apps run.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { freePort } = require('./processes');

function pgBinDir() {
  if (process.env.BENCH_PG_BIN) return process.env.BENCH_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL under /usr/lib/postgresql: set BENCH_PG_BIN or BENCH_DATABASE_URL');
  return path.join(root, newest, 'bin');
}

/** Runs a PostgreSQL binary; as root through `su postgres`, since postgres refuses root. */
function pgCommand(bin, args) {
  if (process.getuid?.() !== 0) return [bin, args];
  const quoted = [bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['su', ['postgres', '-s', '/bin/sh', '-c', quoted]];
}

/** Starts a cluster in a new temporary directory. `stop()` is synchronous so it can run on exit. */
async function startCluster() {
  const bin = pgBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    fs.chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'log');
  const port = await freePort();
  const run = (tool, args) => {
    const [cmd, argv] = pgCommand(path.join(bin, tool), args);
    const r = spawnSync(cmd, argv, { encoding: 'utf8' });
    if (r.status !== 0) {
      const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : '';
      throw new Error(`${tool} failed: ${r.stderr || r.stdout}${tail}`);
    }
    return r.stdout;
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    const [cmd, argv] = pgCommand(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    spawnSync(cmd, argv, { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
    // Server defaults otherwise (fsync, shared_buffers...): the numbers stay representative.
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=200',
      '-c shared_preload_libraries=pg_stat_statements',
    ].join(' ');
    run('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', 'start']);
  } catch (error) {
    stop();
    throw error;
  }
  return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, stop };
}

/**
 * Counts the statements that every client but this one runs, with pg_stat_statements
 * (which counts each statement as it ends); a run's count is the difference of two
 * snapshots. Without the extension (a BENCH_DATABASE_URL server that does not preload
 * it), `method` is undefined and nothing is counted: the other way, transactions in
 * pg_stat_database, proved unusable, as pooled connections that stay open report theirs
 * only when they are next used or closed (seen on PostgreSQL 15: not within 15 s).
 */
async function openStats(url) {
  const client = new Client({ connectionString: url });
  await client.connect();
  const version = (await client.query('SHOW server_version')).rows[0].server_version;
  let method;
  const { libs } = (await client.query(`SELECT current_setting('shared_preload_libraries') AS libs`)).rows[0];
  if (/\bpg_stat_statements\b/.test(libs)) {
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      method = 'pg_stat_statements';
    } catch {
      // Not allowed to create it: no counting.
    }
  }

  async function read() {
    // Our own statements mention pg_stat_statements; the apps' never do.
    const { rows } = await client.query(
      `SELECT queryid::text AS id, calls::float8 AS calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query
         FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query NOT LIKE '%pg_stat_statements%'`,
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  const total = (map) => [...map.values()].reduce((sum, r) => sum + r.calls, 0);

  /**
   * The counters once the apps are quiet (no new statement for 0.5 s): the requests a
   * load run leaves in flight are still being served when it returns.
   */
  async function snapshot() {
    let last = await read();
    for (let quiet = 0, tries = 0; quiet < 2 && tries < 40; tries++) {
      await new Promise((r) => setTimeout(r, 250));
      const next = await read();
      quiet = total(next) === total(last) ? quiet + 1 : 0;
      last = next;
    }
    return last;
  }

  /** Statements run between two snapshots, and the busiest ones, to see what they were. */
  function diff(before, after) {
    const statements = [];
    for (const [id, row] of after) {
      const calls = row.calls - (before.get(id)?.calls ?? 0);
      if (calls > 0) statements.push({ calls, query: row.query });
    }
    statements.sort((a, b) => b.calls - a.calls);
    return { total: statements.reduce((sum, s) => sum + s.calls, 0), top: statements.slice(0, 5) };
  }

  return { method, version, snapshot, diff, close: () => client.end() };
}

module.exports = { startCluster, openStats };
