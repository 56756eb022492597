import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaClient } from '../generated/prisma/client';
import { DATABASE } from './database.constants';
import type { Database } from './database';

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(DATABASE) database: Database) {
    super({ adapter: database.adapter });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
