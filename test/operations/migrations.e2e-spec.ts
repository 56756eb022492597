import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { validateEnv } from '../../src/config/configuration';
import { openDatabase } from '../../src/database/database';
import { migrate, readMigrations } from '../../src/database/migrator';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { startApp, TEST_SECRET } from '../support/test-app';

const open = (db: TestDatabase) => openDatabase(validateEnv({ AUTH_SECRET: TEST_SECRET, ...db.env }).database);

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
      sql.query(`UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name = $1`, [
        readMigrations()[0].name,
      ]),
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

  // The migrations folder must build exactly the schema that schema.prisma describes.
  const migrationSql = resolve(__dirname, '../../../shared/tools/migration-sql');
  (existsSync(migrationSql) ? it : it.skip)(
    'builds the same schema as schema.prisma (no drift between the two)',
    async () => {
      const fromSchema = await createTestDatabase();
      try {
        const sql = execFileSync(migrationSql, ['empty', resolve(__dirname, '../../prisma/schema.prisma')], {
          env: { ...process.env, DATABASE_URL: fromSchema.env.DATABASE_URL },
          encoding: 'utf8',
          timeout: 240_000,
        });
        const client = new Client({ connectionString: fromSchema.env.DATABASE_URL });
        await client.connect();
        await client.query(sql);
        await client.end();

        const database = await open(db);
        await database.withConnection((s) => migrate(s));
        await database.close();

        expect(schemaDump(db.env.DATABASE_URL!)).toEqual(schemaDump(fromSchema.env.DATABASE_URL!));
      } finally {
        await fromSchema.drop();
      }
    },
    300_000,
  );
});

function schemaDump(url: string): string {
  const pgDump = existsSync('/usr/lib/postgresql/15/bin/pg_dump') ? '/usr/lib/postgresql/15/bin/pg_dump' : 'pg_dump';
  return execFileSync(pgDump, ['--schema-only', '--no-owner', '--no-privileges', '--exclude-table=_prisma_migrations', url], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((line) => !line.startsWith('--') && !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
    .join('\n');
}
