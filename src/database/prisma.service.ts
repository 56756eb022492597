import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaClient } from '../generated/prisma/client';
import { DATABASE } from './database.constants';
import type { Database } from './database';

@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) database: Database) {
    super({ adapter: database.adapter });
  }

  // Not onModuleDestroy: Nest runs that before it stops the HTTP server, and $disconnect
  // aborts the transactions of the requests still in flight ("Transaction not found"),
  // which then fail with 500 during a graceful shutdown. onApplicationShutdown runs once
  // the HTTP server has closed and those requests have been answered; DatabaseModule
  // closes the pool (or PGlite) right after this provider's hook.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
