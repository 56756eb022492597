import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isDatabaseUnavailable } from '../common/http-exception.filter';
import type { AppConfig } from '../config/configuration';
import { openDatabase, type Database } from './database';
import { DATABASE } from './database.constants';
import { migrate } from './migrator';
import { PrismaService } from './prisma.service';

/**
 * Opens the database chosen by DATABASE_URL (or the embedded one), applies pending
 * migrations before anything else can query it, and closes it last on shutdown.
 */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [ConfigService],
      useFactory: async (config: ConfigService<AppConfig, true>): Promise<Database> => {
        const logger = new Logger('Database');
        const database = await openDatabase(config.get('database', { infer: true }));
        try {
          const applied = await database.withConnection((sql) => migrate(sql));
          // Which database it is, main.ts says in its start-up line; here only what changed.
          if (applied.length) logger.log(`${database.description}: applied ${applied.join(', ')}`);
          else logger.debug(`${database.description}: schema up to date`);
        } catch (error) {
          await database.close();
          throw inOperatorsWords(error, database);
        }
        return database;
      },
    },
    PrismaService,
  ],
  exports: [DATABASE, PrismaService],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  // Last: Nest calls a module's own hook after its providers' (PrismaService has
  // disconnected), and onApplicationShutdown runs once the HTTP server has closed and
  // the requests in flight have been answered. PGlite flushes and closes its files
  // here, so a SIGTERM leaves the data directory consistent.
  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * A server that refuses us at start, in one line (main.ts prints the message) that names
 * DATABASE_URL and where it points, never its user or password.
 */
function inOperatorsWords(error: unknown, database: Database): unknown {
  if (database.kind !== 'server' || !database.connectionString || !(error instanceof Error)) return error;
  const url = new URL(database.connectionString);
  const where = `${url.hostname}:${url.port || 5432}`;
  if (isDatabaseUnavailable(error)) {
    return new Error(
      `Cannot reach the database at DATABASE_URL (${where}): ${error.message}. Check that PostgreSQL runs there and DATABASE_URL is right.`,
      { cause: error },
    );
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
