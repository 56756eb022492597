import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import type { Database } from './database';
import { DATABASE } from './database.constants';
import { openMigratedDatabase } from './open-migrated';
import { PrismaService } from './prisma.service';

/**
 * Opens the database chosen by DATABASE_URL (or the embedded one), migrated
 * (openMigratedDatabase), and closes it last on shutdown.
 */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [ConfigService],
      useFactory: async (config: ConfigService<AppConfig, true>): Promise<Database> => {
        const logger = new Logger('Database');
        const { database, applied } = await openMigratedDatabase(config.get('database', { infer: true }));
        // Which database it is, main.ts says in its start-up line; here only what changed.
        if (applied.length) logger.log(`${database.description}: applied ${applied.join(', ')}`);
        else logger.debug(`${database.description}: schema up to date`);
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
