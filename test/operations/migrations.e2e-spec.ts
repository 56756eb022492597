import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { validateEnv } from '../../src/config/configuration';
import { openDatabase } from '../../src/database/database';
import { migrate, readMigrations } from '../../src/database/migrator';
import { createTestDatabase, dbKind, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { startApp, TEST_SECRET } from '../support/test-app';

const open = (db: TestDatabase) => openDatabase(validateEnv({ AUTH_SECRET: TEST_SECRET, ...db.env }).database);

const DB_DIFF = resolve(__dirname, '../../scripts/db-diff.js');
const SCHEMA = resolve(__dirname, '../../prisma/schema.prisma');

/**
 * `npm run db:diff -- --check …` (scripts/db-diff.js): Prisma's own engine writes the SQL
 * from the database prisma/migrations builds to the schema, and an empty one is "no
 * changes". Its shadow database: on the PostgreSQL pass, a database of TEST_DATABASE_URL's
 * server; on the PGlite pass (PGlite cannot host it), a throwaway cluster of the local
 * PostgreSQL binaries. `problem` is its stderr when it did not exit 0, for the failure message.
 */
async function dbDiff(...args: string[]): Promise<{ code: number; stdout: string; problem: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: dbKind() === 'postgres' ? process.env.TEST_DATABASE_URL : undefined };
  if (env.DATABASE_URL === undefined) delete env.DATABASE_URL;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [DB_DIFF, ...args], { env, timeout: 280_000 });
    return { code: 0, stdout: stdout.trim(), problem: '' };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: (failed.stdout ?? '').trim(), problem: failed.stderr || failed.message };
  }
}

describe('migrations at start', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('records every migration as Prisma Migrate does (name, SHA-256 checksum, finished)', async () => {
    const app = await startApp(db);
    try {
      const rows = await app.prisma.$queryRaw<
        { migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]
      >`SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name`;
      const local = readMigrations();
      expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(local.map((m) => [m.name, m.checksum]));
      for (const row of rows) {
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.applied_steps_count).toBe(1);
      }
    } finally {
      await app.close();
    }
  });

  it('refuses to start when an applied migration was changed afterwards', async () => {
    await (await startApp(db)).close();
    const database = await open(db);
    await database.withConnection((sql) =>
      sql.query(`UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name = $1`, [readMigrations()[0].name]),
    );
    await database.close();
    await expect(startApp(db)).rejects.toThrow(/was changed after it was applied/);
  });

  it('refuses to start on a database that is ahead of the code', async () => {
    await (await startApp(db)).close();
    const database = await open(db);
    await database.withConnection((sql) =>
      sql.query(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES (gen_random_uuid()::text, repeat('a', 64), now(), '29990101000000_from_the_future', now(), 1)`,
      ),
    );
    await database.close();
    await expect(startApp(db)).rejects.toThrow(/ahead of this code.*29990101000000_from_the_future/);
  });
});

describeOnPostgres('migrations on a PostgreSQL server', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('applies each migration once when two instances start together', async () => {
    const [a, b] = await Promise.all([open(db), open(db)]);
    try {
      const results = await Promise.all([a.withConnection((sql) => migrate(sql)), b.withConnection((sql) => migrate(sql))]);
      expect(results.flat().sort()).toEqual(readMigrations().map((m) => m.name));
      const rows = await a.withConnection((sql) => sql.query('SELECT count(*)::int AS n FROM _prisma_migrations'));
      expect(rows[0].n).toBe(readMigrations().length);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

// The migrations folder must build exactly the schema that schema.prisma describes, on
// every run of the suite: Prisma's diff of the two is empty (a migration that the schema
// lacks, or a schema change without its migration, is not).
describe('migrations and schema.prisma', () => {
  it('have not drifted apart: the next migration Prisma would write is empty', async () => {
    expect(await dbDiff('--check')).toEqual({ code: 0, stdout: 'no changes', problem: '' });
  }, 300_000);

  it('would be caught drifting: a field schema.prisma gains without a migration is the SQL of one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'schema-drift-'));
    try {
      const schema = join(dir, 'schema.prisma');
      const source = readFileSync(SCHEMA, 'utf8');
      expect(source).toMatch(/^model User \{$/m);
      writeFileSync(schema, source.replace(/^model User \{$/m, 'model User {\n  driftProbe String?'));
      expect(await dbDiff('--check', '--schema', schema)).toEqual({
        code: 1,
        stdout: expect.stringMatching(/^-- AlterTable\nALTER TABLE "users" ADD COLUMN\s+"driftProbe" TEXT[;,]$/m),
        problem: expect.stringContaining('prisma/migrations does not build'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
