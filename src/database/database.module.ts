import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
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
          logger.log(
            `${database.description}: ${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'}`,
          );
        } catch (error) {
          await database.close();
          throw error;
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
