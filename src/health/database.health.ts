import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.constants';
import { DatabaseStoppedError } from '../database/disk-guard';
import { PrismaService } from '../database/prisma.service';

/** How long the health check waits for the database before calling it down. */
const PING_TIMEOUT_MS = 2000;

/** Why the database is down although it answers: its writes are refused (see DiskGuard). */
export type DownReason = 'disk full' | 'restart needed';

@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(DATABASE) private readonly database: Database,
    private readonly health: HealthIndicatorService,
  ) {}

  /**
   * Up when the database answers and takes writes. A database that answers but refuses
   * writes is down too, with a `reason`: the embedded one on a full disk ('disk full',
   * up again by itself once space is freed) or stopped at a PANIC ('restart needed').
   */
  async isHealthy(key = 'database') {
    const indicator = this.health.check(key);
    try {
      const refused = await Promise.race([
        this.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS).unref()),
      ]);
      return refused ? indicator.down({ reason: refused }) : indicator.up();
    } catch {
      return indicator.down();
    }
  }

  /** Why writes are refused, or undefined once the database answered. */
  private async ping(): Promise<DownReason | undefined> {
    const refused = await this.database.writeRefusal?.();
    if (refused) return refused instanceof DatabaseStoppedError ? 'restart needed' : 'disk full';
    await this.prisma.$queryRaw`SELECT 1`;
    return undefined;
  }
}
