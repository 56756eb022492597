#!/usr/bin/env node
// Writes the next migration with Prisma's own engine: the SQL that takes the database
// prisma/migrations builds to the one prisma/schema.prisma describes.
//
//   npm run db:diff -- <name>     writes prisma/migrations/<UTC yyyymmddHHMMSS>_<name>/migration.sql,
//                                 or prints "no changes"
//   npm run db:diff -- --check    prints "no changes" and exits 0, or prints the SQL of the
//                                 drift and exits 1 (test/operations/migrations.e2e-spec.ts);
//                                 2 when it could not tell (no PostgreSQL, a Prisma error)
//   --schema <file>               compare with that schema instead of prisma/schema.prisma
//
// It runs `prisma migrate diff --from-migrations prisma/migrations --to-schema… --script`:
// Prisma replays the migrations in an empty shadow database and diffs what they built
// against the schema, as `prisma migrate dev` would. Two engines can do that:
// - native: Prisma 7's CLI (this project's `prisma`) with its schema-engine binary, used
//   when that binary is on this machine (PRISMA_SCHEMA_ENGINE_BINARY, or the one
//   @prisma/engines downloads at install from binaries.prisma.sh);
// - wasm, everywhere else: Prisma 7's CLI has no way to run its WebAssembly schema engine,
//   Prisma 6.19's has (engine "js" and the pg driver adapter). prisma@6.19.3 and
//   @prisma/adapter-pg@6.19.3 are installed once per machine from the npm registry into
//   ~/.cache/nest-auth-backend (XDG_CACHE_HOME), outside the clone.
// DB_DIFF_ENGINE=native|wasm picks one. The shadow database is made for the run and dropped
// after it: on the PostgreSQL server DATABASE_URL names (its user may create databases), or
// without DATABASE_URL in a throwaway cluster of the local PostgreSQL server binaries
// (/usr/lib/postgresql/*/bin, or initdb on the PATH; run as the `postgres` user when we are
// root, since initdb refuses root) that listens only on a Unix socket in a temporary directory.
'use strict';
const { execFile, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');

const ROOT = path.join(__dirname, '..');
const MIGRATIONS = path.join(ROOT, 'prisma', 'migrations');
const SCHEMA = path.join(ROOT, 'prisma', 'schema.prisma');
const PRISMA6 = '6.19.3';
const PRISMA6_HOME = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'nest-auth-backend', `prisma-${PRISMA6}`);
const USAGE = 'Usage: npm run db:diff -- <name> | --check   [--schema <file>]';
const NO_CHANGES = 'no changes';

class DiffError extends Error {}

/** Undone when the run ends: done, failed, or interrupted (SIGINT, SIGTERM): the cluster must not outlive us. */
const cleanups = [];
/** `undo` registered; the function returned runs it now, once. */
function undoLater(undo) {
  cleanups.push(undo);
  return () => {
    const at = cleanups.indexOf(undo);
    if (at === -1) return;
    cleanups.splice(at, 1);
    undo();
  };
}
function cleanUp() {
  while (cleanups.length > 0) {
    try {
      cleanups.pop()();
    } catch {
      // best effort: the rest still runs
    }
  }
}

// ---------------------------------------------------------------------------------------
// The shadow database

/** An empty database for `use`, dropped after: on DATABASE_URL's server, or in a throwaway cluster. */
async function withShadowDatabase(use) {
  if (process.env.DATABASE_URL) return withDatabaseOn(process.env.DATABASE_URL, use);
  const cluster = startCluster();
  try {
    return await withDatabaseOn(cluster.url, use);
  } finally {
    cluster.stop();
  }
}

async function withDatabaseOn(serverUrl, use) {
  const name = `db_diff_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  try {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return await use(url.toString());
  } finally {
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function adminQuery(serverUrl, sql) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: serverUrl });
  try {
    await client.connect();
    await client.query(sql);
  } catch (error) {
    // Not the URL: it may hold a password.
    throw new DiffError(`db-diff: ${sql.split(' ').slice(0, 2).join(' ')} failed: ${error.message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The newest local PostgreSQL's bin directory: Debian's /usr/lib/postgresql/<major>/bin, else initdb's on the PATH. */
function postgresBin() {
  const debian = '/usr/lib/postgresql';
  const majors = fs.existsSync(debian)
    ? fs
        .readdirSync(debian)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => b - a)
    : [];
  for (const major of majors) {
    const bin = path.join(debian, major, 'bin');
    if (fs.existsSync(path.join(bin, 'initdb'))) return bin;
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (found) return path.dirname(found);
  throw new DiffError(
    'db-diff needs PostgreSQL: its server binaries (initdb, pg_ctl; e.g. apt-get install postgresql) for a throwaway cluster, ' +
      'or DATABASE_URL naming a server on which it may create a database',
  );
}

/** A cluster in a temporary directory, on a Unix socket there only (no port to collide on). */
function startCluster() {
  const bin = postgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-diff-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
    fs.chownSync(dir, ids('-u'), ids('-g'));
  }
  const run = (tool, args) => {
    const [command, argv] = asRoot
      ? ['su', ['-s', '/bin/sh', '-c', 'exec "$0" "$@"', 'postgres', '--', path.join(bin, tool), ...args]]
      : [path.join(bin, tool), args];
    const result = spawnSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    if (result.status !== 0) {
      const log = path.join(dir, 'log');
      const detail = [result.error?.message, result.stderr, fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''].filter(Boolean).join('\n');
      throw new DiffError(`db-diff: ${tool} failed${asRoot ? ' (run as the postgres user)' : ''}:\n${detail.trim()}`);
    }
  };
  let running = false;
  const stop = undoLater(() => {
    try {
      if (running) run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']);
  run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-k ${dir} -c listen_addresses='' -c fsync=off`, 'start']);
  running = true;
  return {
    // Spelled as Prisma documents a socket directory (`?host=/var/run/postgresql`), which both engines read.
    url: `postgresql://postgres@localhost/postgres?host=${dir}`,
    stop,
  };
}

// ---------------------------------------------------------------------------------------
// The engines

/** Prisma 7's native schema engine, if this machine has one that answers as such. */
function nativeEngine() {
  const enginesDir = path.join(ROOT, 'node_modules', '@prisma', 'engines');
  const installed = fs.existsSync(enginesDir)
    ? fs.readdirSync(enginesDir).filter((file) => /^schema-engine-/.test(file) && !/\.(gz|sha256|sig)$/.test(file))
    : [];
  const given = process.env.PRISMA_SCHEMA_ENGINE_BINARY ? [path.resolve(process.env.PRISMA_SCHEMA_ENGINE_BINARY)] : [];
  const candidates = [...given, ...installed.map((file) => path.join(enginesDir, file))];
  // PRISMA_SCHEMA_ENGINE_BINARY may name a stand-in (scripts/prisma-generate.js uses node): ask it.
  return candidates.find((file) => spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout?.startsWith('schema-engine'));
}

function chooseEngine() {
  const wanted = process.env.DB_DIFF_ENGINE;
  if (wanted !== undefined && wanted !== 'native' && wanted !== 'wasm') throw new DiffError('DB_DIFF_ENGINE must be native or wasm');
  const binary = wanted === 'wasm' ? undefined : nativeEngine();
  if (wanted === 'native' && !binary) {
    throw new DiffError('DB_DIFF_ENGINE=native, but no schema-engine binary answers here (PRISMA_SCHEMA_ENGINE_BINARY, node_modules/@prisma/engines)');
  }
  return binary ? { name: 'native', binary } : { name: 'wasm' };
}

/** Prisma's stdout, less its "Loaded Prisma config" line. */
async function prisma(cli, args, options) {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], { ...options, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
    return stdout.replace(/^Loaded Prisma config from .*\n/m, '').trim();
  } catch (error) {
    throw new DiffError(`prisma ${args.slice(0, 2).join(' ')} failed:\n${(error.stderr || error.stdout || error.message).trim()}`);
  }
}

const quiet = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };

/** Prisma 7 with its native engine: the config file gives it the shadow database. */
function diffNative(engine, shadowUrl, schema, work) {
  const config = path.join(work, 'prisma.config.js');
  const settings = { schema, migrations: { path: MIGRATIONS }, datasource: { shadowDatabaseUrl: shadowUrl } };
  fs.writeFileSync(config, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const cli = path.join(ROOT, 'node_modules', 'prisma', 'build', 'index.js');
  const args = ['migrate', 'diff', '--config', config, '--from-migrations', MIGRATIONS, '--to-schema', schema, '--script'];
  return prisma(cli, args, { cwd: work, env: { ...quiet, PRISMA_SCHEMA_ENGINE_BINARY: engine.binary } });
}

/**
 * The config of Prisma 6's WebAssembly engine: it reaches PostgreSQL through the pg driver
 * adapter, whose database is the shadow one. The engine reads catalog columns of types
 * `name` and `"char"`, which @prisma/adapter-pg 6 refuses ("Column type 'name' could not
 * be deserialized", prisma/orm#27403): they reach the adapter as what they are, text. The
 * pool's `Client` option does it, because the adapter opens its shadow pool with the same
 * options. allowExitOnIdle: the CLI exits when done, not after the pool's 10 s idle timeout.
 */
const PRISMA6_CONFIG = (schema) => `'use strict';
// Written by scripts/db-diff.js for one run; the schema is a copy made for Prisma 6.
const { defineConfig } = require('prisma/config');
const { PrismaPg } = require('@prisma/adapter-pg');
const pg = require('pg');

const NAME = 19;
const CHAR = 18;
const TEXT = 25;
const asText = (result) => {
  for (const { fields } of [].concat(result)) for (const field of fields ?? []) if (field.dataTypeID === NAME || field.dataTypeID === CHAR) field.dataTypeID = TEXT;
  return result;
};
class Client extends pg.Client {
  query(config, values, callback) {
    if (typeof values === 'function') return super.query(config, (error, result) => values(error, error ? result : asText(result)));
    if (typeof callback === 'function') return super.query(config, values, (error, result) => callback(error, error ? result : asText(result)));
    const pending = super.query(config, values);
    return typeof pending?.then === 'function' ? pending.then(asText) : pending;
  }
}

module.exports = defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: ${JSON.stringify(schema)},
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL, allowExitOnIdle: true, Client }),
});
`;

/**
 * The schema as Prisma 6 needs it: the datasource gets its url (Prisma 7 reads it from
 * prisma.config.ts), and the generators give way to one that keeps Prisma 6 off its
 * native query engine (which it would otherwise download). Models are left as they are.
 */
function forPrisma6(source) {
  const lines = ['generator client {', '  provider   = "prisma-client-js"', '  engineType = "client"', '}', ''];
  let block;
  for (const line of source.split('\n')) {
    block = /^\s*(generator|datasource)\s+\w+\s*\{/.exec(line)?.[1] ?? block;
    const closes = /^\s*\}/.test(line);
    if (block === 'generator') {
      if (closes) block = undefined;
      continue;
    }
    if (block === 'datasource') {
      if (/^\s*(url|directUrl|shadowDatabaseUrl)\s*=/.test(line)) continue;
      if (closes) {
        lines.push('  url = env("DATABASE_URL")');
        block = undefined;
      }
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** prisma@6.19.3 and its pg adapter, installed once into PRISMA6_HOME; their node_modules. */
function prisma6Modules() {
  const modules = path.join(PRISMA6_HOME, 'node_modules');
  const ready = () => ['prisma/build/index.js', '@prisma/adapter-pg/package.json', 'pg/package.json'].every((file) => fs.existsSync(path.join(modules, file)));
  if (ready()) return modules;
  console.error(`db-diff: installing prisma@${PRISMA6} and @prisma/adapter-pg@${PRISMA6} into ${PRISMA6_HOME} (once)`);
  fs.mkdirSync(path.dirname(PRISMA6_HOME), { recursive: true });
  // Installed beside it and renamed into place: two runs at once never use half an install.
  const staging = fs.mkdtempSync(`${PRISMA6_HOME}.partial-`);
  try {
    fs.writeFileSync(path.join(staging, 'package.json'), '{ "private": true }\n');
    // --ignore-scripts: their install scripts only download native engines, which the wasm engine does without.
    const args = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', `prisma@${PRISMA6}`, `@prisma/adapter-pg@${PRISMA6}`];
    const result = spawnSync('npm', args, { cwd: staging, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (result.status !== 0) throw new DiffError(`db-diff: could not install prisma@${PRISMA6}:\n${result.stderr || result.error?.message}`);
    try {
      fs.renameSync(staging, PRISMA6_HOME);
    } catch (error) {
      if (!ready()) throw error; // not another run that finished first
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return modules;
}

/** Prisma 6 with its WebAssembly engine, from a work directory whose node_modules is the cached install. */
function diffWasm(shadowUrl, schema, work) {
  const modules = prisma6Modules();
  fs.symlinkSync(modules, path.join(work, 'node_modules'), 'dir');
  const copy = path.join(work, 'schema.prisma');
  fs.writeFileSync(copy, forPrisma6(fs.readFileSync(schema, 'utf8')));
  const config = path.join(work, 'prisma.config.js');
  fs.writeFileSync(config, PRISMA6_CONFIG(copy));
  const cli = path.join(modules, 'prisma', 'build', 'index.js');
  const args = ['migrate', 'diff', '--config', config, '--from-migrations', MIGRATIONS, '--to-schema-datamodel', copy, '--script'];
  return prisma(cli, args, { cwd: work, env: { ...quiet, DATABASE_URL: shadowUrl } });
}

// ---------------------------------------------------------------------------------------

/** Only comments and blank lines ("-- This is an empty migration."): nothing to migrate. */
const isEmptyMigration = (sql) => sql.split('\n').every((line) => /^\s*(--.*)?$/.test(line));

/** The SQL of the migration that takes prisma/migrations' database to `schema`'s ('' when there is nothing to do). */
async function nextMigrationSql({ schema = SCHEMA, log = () => {} } = {}) {
  if (!fs.existsSync(schema)) throw new DiffError(`db-diff: no schema at ${schema}`);
  const engine = chooseEngine();
  log(engine.name === 'native' ? `db-diff: Prisma 7's native schema engine (${engine.binary})` : `db-diff: Prisma ${PRISMA6}'s WebAssembly schema engine`);
  log(`db-diff: shadow database ${process.env.DATABASE_URL ? "on DATABASE_URL's server" : 'in a throwaway local cluster'}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'db-diff-work-'));
  const removeWork = undoLater(() => fs.rmSync(work, { recursive: true, force: true }));
  try {
    const sql = await withShadowDatabase((shadowUrl) =>
      engine.name === 'native' ? diffNative(engine, shadowUrl, path.resolve(schema), work) : diffWasm(shadowUrl, path.resolve(schema), work),
    );
    return isEmptyMigration(sql) ? '' : `${sql}\n`;
  } finally {
    removeWork();
  }
}

/** The directory of a new migration named `name`, after every existing one. */
function newMigrationDir(name) {
  const slug = name
    .trim()
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200);
  if (!slug) throw new DiffError(USAGE);
  // toISOString is UTC: 2026-12-06T10:04:21.123Z → 20261206100421.
  const dir = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${slug}`;
  const last = fs
    .readdirSync(MIGRATIONS)
    .filter((entry) => /^\d{14}_/.test(entry))
    .sort()
    .pop();
  // The runner applies migrations in name order: one dated before the last would run out of order.
  if (last && dir <= last) throw new DiffError(`db-diff: ${dir} would sort before ${last}; is this machine's clock right?`);
  return path.join(MIGRATIONS, dir);
}

async function main(argv) {
  let options;
  try {
    options = require('node:util').parseArgs({
      args: argv,
      allowPositionals: true,
      options: { check: { type: 'boolean' }, schema: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new DiffError(`${error.message}\n${USAGE}`);
  }
  const { values, positionals } = options;
  if (values.help) return console.log(USAGE);
  if (values.check ? positionals.length !== 0 : positionals.length !== 1) throw new DiffError(USAGE);
  const dir = values.check ? undefined : newMigrationDir(positionals[0]);
  const sql = await nextMigrationSql({ schema: values.schema, log: (line) => console.error(line) });
  if (!sql) return console.log(NO_CHANGES);
  if (values.check) {
    console.error(`db-diff: prisma/migrations does not build ${values.schema ?? 'prisma/schema.prisma'}; the migration it lacks:`);
    process.stdout.write(sql);
    process.exitCode = 1;
    return;
  }
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'migration.sql'), sql);
  process.stdout.write(sql);
  console.error(`db-diff: wrote ${path.relative(ROOT, path.join(dir, 'migration.sql'))}; review it, then npm run prisma:generate`);
}

module.exports = { nextMigrationSql, isEmptyMigration, NO_CHANGES };

if (require.main === module) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      cleanUp();
      process.exit(128 + os.constants.signals[signal]);
    });
  }
  main(process.argv.slice(2))
    .catch((error) => {
      console.error(error instanceof DiffError ? error.message : error);
      process.exitCode = 2;
    })
    .finally(cleanUp);
}
