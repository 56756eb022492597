import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { Pool, type PoolClient } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { ownerOnlyUmask, privateTree } from '../common/private-files';
import { lockDataDir, SERVER, type Opener } from './data-dir-lock';
import { DiskGuard, type DatabaseStoppedError, type DiskFullError } from './disk-guard';
import { guardedAdapter } from './guarded-adapter';
import type { SqlClient } from './sql-client';

/**
 * The one place that knows there are two databases. Everything above it (Prisma, the
 * migration runner, revocation notifications) talks to `Database` and works the same on:
 * - `embedded`: PGlite, PostgreSQL compiled to WebAssembly, in-process, on disk in DATA_DIR;
 * - `server`:   a PostgreSQL server at DATABASE_URL, through a `pg` pool.
 */
export interface Database {
  readonly kind: 'embedded' | 'server';
  /** A description for logs, without credentials. */
  readonly description: string;
  /** The Prisma driver adapter. */
  readonly adapter: SqlDriverAdapterFactory;
  /** Runs `fn` on one connection held for its whole duration (session-level locks, scripts). */
  withConnection<T>(fn: (sql: SqlClient) => Promise<T>): Promise<T>;
  /** Embedded only: the PGlite instance. Query it through `adapter` or `withConnection`, which guard it (see DiskGuard). */
  readonly pglite?: PGlite;
  /** Embedded only: PGlite's in-process LISTEN; the function returned stops listening. */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /**
   * Embedded only: why writes are refused right now (DATA_DIR's disk is full, or PGlite
   * stopped at a PANIC: see DiskGuard), or undefined. A server's disk is out of our sight:
   * its writes fail with SQLSTATE 53100, which the exception filter answers the same way.
   */
  writeRefusal?(): Promise<DiskFullError | DatabaseStoppedError | undefined>;
  /** Server only: for callers that need a dedicated connection of their own (LISTEN). */
  readonly connectionString?: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  poolSize?: number;
  /** Who opens it (default: the server). The embedded database refuses a second process; see data-dir-lock.ts. */
  opener?: Opener;
  /** Embedded only: the free space DATA_DIR keeps, under which writes are refused (default EMBEDDED_MIN_FREE_BYTES). */
  minFreeBytes?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openServer(options.url, options.poolSize ?? 10) : openEmbedded(options.dataDir, options.opener ?? SERVER, options.minFreeBytes);
}

async function openEmbedded(dataDir: string, opener: Opener, minFreeBytes?: number): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  const dir = inMemory ? dataDir : resolve(dataDir, 'pglite');
  // What PGlite writes from now on (it holds password hashes) is owner-only.
  if (!inMemory) ownerOnlyUmask();
  // Before PGlite reads a byte: a second process must not even replay the WAL. An
  // in-memory database is this process's alone.
  const lock = inMemory ? undefined : lockDataDir(dataDir, opener);
  let pglite: PGlite;
  try {
    // What it wrote before, under a looser umask or in an earlier version, is made owner-only too.
    if (!inMemory) privateTree(dir);
    pglite = await PGlite.create(dir);
  } catch (error) {
    lock?.release();
    throw error;
  }
  const guard = new DiskGuard(inMemory ? undefined : dir, minFreeBytes);
  const sql: SqlClient = {
    query: <Row>(text: string, params?: unknown[]) => guard.run(text, async () => (await pglite.query<Row>(text, params)).rows),
    exec: (text: string) => guard.run(text, async () => void (await pglite.exec(text))),
  };
  // PGlite is a single connection: every caller already has it to itself.
  return {
    kind: 'embedded',
    description: `embedded PGlite in ${dir}`,
    adapter: guardedAdapter(new PrismaPGlite(pglite), guard),
    pglite,
    withConnection: (fn) => fn(sql),
    listen: async (channel, onNotify) => {
      const unlisten = await guard.run('LISTEN', () => pglite.listen(channel, onNotify));
      return () => guard.run('UNLISTEN', unlisten);
    },
    writeRefusal: () => guard.refusal(),
    close: async () => {
      try {
        // Stopped at a PANIC, PGlite would hang in its closing checkpoint: the next start replays the WAL instead.
        if (!pglite.closed && !guard.isStopped) await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/**
 * How long a request waits for a connection: to open one (TCP and PostgreSQL's
 * start-up), or for a free one of the pool. Without a bound, a database host that drops
 * packets instead of refusing them (down, partitioned, a failover to a dead address)
 * leaves every request hanging, and the shutdown with them; with it they fail, and the
 * exception filter answers 503.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * How long a query may wait for its answer. A partition that silences an open connection
 * (no RST, no FIN) would otherwise hold the request until TCP gives up, minutes later;
 * with it the query fails and the request gets 503. Far above any statement of ours.
 */
export const QUERY_TIMEOUT_MS = 10_000;

function openServer(url: string, poolSize: number): Database {
  const pool = new Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // An idle client that loses its server must not crash the process: the pool drops it.
  pool.on('error', () => undefined);
  const parsed = new URL(url);
  const clientSql = (client: PoolClient): SqlClient => ({
    query: async <Row>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as Row[],
    exec: async (text: string) => {
      await client.query(text);
    },
  });
  let closed = false;
  return {
    kind: 'server',
    description: `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`,
    adapter: new PrismaPg(pool),
    connectionString: url,
    withConnection: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn(clientSql(client));
      } finally {
        client.release();
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
