import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findUp } from '../common/find-up';
import type { SqlClient } from './sql-client';

/**
 * Applies pending Prisma Migrate migrations and records them in `_prisma_migrations`
 * exactly as `prisma migrate deploy` does (same table, same checksum: SHA-256 hex of
 * migration.sql), so that `prisma migrate status|deploy` agree with this runner on any
 * machine where Prisma's native schema engine is available. We need our own runner
 * because that engine cannot run everywhere (and never inside PGlite).
 */

/** The advisory lock key Prisma Migrate takes on PostgreSQL: this runner and `prisma
 * migrate deploy` exclude each other, and so do two instances starting together. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/** prisma/migrations of the nearest enclosing project (from src/, dist/ or another build). */
export const MIGRATIONS_DIR = findUp(join('prisma', 'migrations'), __dirname);

// Prisma's own DDL for its history table (schema-engine, postgres flavour).
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

export function readMigrations(dir = MIGRATIONS_DIR): LocalMigration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Brings the database up to the migrations in `dir`. Refuses, with a message that says
 * what to do, a database that is ahead of the code, that holds a migration whose file
 * changed since it was applied, or that has a failed migration. Returns the names applied.
 */
export async function migrate(sql: SqlClient, dir = MIGRATIONS_DIR): Promise<string[]> {
  const local = readMigrations(dir);
  await sql.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    await sql.exec(CREATE_MIGRATIONS_TABLE);
    const applied = await appliedMigrations(sql);
    refuseDrift(local, applied);
    const pending = local.filter((m) => !applied.has(m.name));
    for (const migration of pending) await apply(sql, migration);
    return pending.map((m) => m.name);
  } finally {
    await sql.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  }
}

/** The migrations the database has finished, by name; a failed or unfinished one stops everything. */
async function appliedMigrations(sql: SqlClient): Promise<Map<string, AppliedRow>> {
  const rows = await sql.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at');
  const applied = new Map<string, AppliedRow>();
  for (const row of rows) {
    if (row.rolled_back_at !== null) continue;
    if (row.finished_at === null) {
      throw new MigrationError(
        `Migration ${row.migration_name} failed or is still running on this database. ` +
          'Resolve it (see `prisma migrate resolve`) before starting the server.',
      );
    }
    applied.set(row.migration_name, row);
  }
  return applied;
}

/** Refuses a database ahead of the code, and a migration whose file changed since it was applied. */
function refuseDrift(local: LocalMigration[], applied: Map<string, AppliedRow>): void {
  const localNames = new Set(local.map((m) => m.name));
  const unknown = [...applied.keys()].filter((name) => !localNames.has(name));
  if (unknown.length > 0) {
    throw new MigrationError(
      `The database is ahead of this code: it has migration(s) ${unknown.join(', ')} that prisma/migrations ` +
        'does not contain. Deploy the newer code, or point DATABASE_URL/DATA_DIR at the right database.',
    );
  }
  for (const migration of local) {
    const row = applied.get(migration.name);
    if (row && row.checksum !== migration.checksum) {
      throw new MigrationError(
        `Migration ${migration.name} was changed after it was applied (checksum ${row.checksum} in the database, ` +
          `${migration.checksum} on disk). Restore the original migration.sql and put the change in a new migration.`,
      );
    }
  }
}

/** Script and history row commit together: a crash leaves either both or neither. */
async function apply(sql: SqlClient, migration: LocalMigration): Promise<void> {
  await sql.exec('BEGIN');
  try {
    await sql.exec(migration.sql);
    await sql.query(
      `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, now(), $3, NULL, NULL, now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await sql.exec('COMMIT');
  } catch (error) {
    await sql.exec('ROLLBACK');
    throw new MigrationError(`Migration ${migration.name} failed: ${(error as Error).message}`);
  }
}
