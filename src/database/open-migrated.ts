import { isDatabaseUnavailable } from '../common/http-exception.filter';
import { openDatabase, type Database, type DatabaseOptions } from './database';
import { DiskFullError } from './disk-guard';
import { migrate } from './migrator';

/**
 * Opens the database and applies pending migrations before anything else can query it:
 * the server at start (DatabaseModule) and every command (db:migrate, admin:create,
 * keys:rotate) begin here. A failure closes what was opened and is told in an
 * operator's words (see `inOperatorsWords`).
 */
export async function openMigratedDatabase(options: DatabaseOptions): Promise<{ database: Database; applied: string[] }> {
  const database = await openDatabase(options);
  try {
    return { database, applied: await database.withConnection((sql) => migrate(sql)) };
  } catch (error) {
    await database.close();
    throw inOperatorsWords(error, database);
  }
}

/**
 * A server that refuses us, in one line (main.ts and the commands print the message)
 * that names DATABASE_URL and where it points, never its user or password; or the
 * embedded database's disk, too full to start on.
 */
function inOperatorsWords(error: unknown, database: Database): unknown {
  if (error instanceof DiskFullError) {
    return new Error(`${error.message}. Free space on the disk of DATA_DIR, then try again.`, { cause: error });
  }
  if (database.kind !== 'server' || !database.connectionString || !(error instanceof Error)) return error;
  const url = new URL(database.connectionString);
  const where = `${url.hostname}:${url.port || 5432}`;
  if (isDatabaseUnavailable(error)) {
    return new Error(`Cannot reach the database at DATABASE_URL (${where}): ${error.message}. Check that PostgreSQL runs there and DATABASE_URL is right.`, {
      cause: error,
    });
  }
  // SQLSTATE 28xxx: authentication; 3D000: no such database.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('28') || code === '3D000')) {
    return new Error(
      `The database at DATABASE_URL (${where}${url.pathname}) refused us: ${error.message}. Check the user, password and database name in DATABASE_URL.`,
      { cause: error },
    );
  }
  return error;
}
