import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { DELETE_BATCH_SIZE, deleteInBatches } from '../database/batches';
import { PrismaService } from '../database/prisma.service';
import { Prisma } from '../generated/prisma/client';

/** `{ totalHits, timeToExpire, isBlocked, timeToBlockExpire }` (not exported by the package's index). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * The row key of one counter. The guard's default key already contains the throttler
 * name, but a custom `generateKey` may not: the prefix keeps two named throttlers on the
 * same key (e.g. "short" and "long") from sharing one window, as the in-memory storage does.
 */
export function bucketKey(key: string, throttlerName: string): string {
  return `${throttlerName}:${key}`;
}

/**
 * `@nestjs/throttler` storage in the `throttle_buckets` table, so that every instance
 * sharing the database enforces the same limits.
 *
 * A fixed window per key: the first hit opens a window of `ttl` ms; the hit that takes
 * the count past `limit` blocks the key for `blockDuration` ms (the guard defaults it to
 * `ttl`; 0 means "until the window ends"). Hits made while blocked are refused and not
 * counted; once the block or the window is over, the next hit starts a fresh window at 1.
 * Units follow the in-memory ThrottlerStorageService: ttl and blockDuration in
 * milliseconds in, timeToExpire and timeToBlockExpire in whole seconds (rounded up) out.
 */
@Injectable()
export class PostgresThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly prisma: PrismaService) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    // Every time is taken from the database clock (statement_timestamp(): one value for
    // the whole statement), never from Date.now(): instances whose clocks disagree then
    // still agree on when a window or a block ends, and on the seconds they report.
    // Rounded to the columns' millisecond precision, so that "now + 30 s", once stored,
    // is still exactly 30 s from now (and not 30.0004 s, reported as 31).
    const now = Prisma.sql`statement_timestamp()::timestamptz(3)`;
    const ttlInterval = Prisma.sql`(${ttl}::float8 * interval '1 millisecond')`;
    // NULL when blockDuration <= 0: the block then lasts until the window ends.
    const blockInterval = Prisma.sql`(${blockDuration > 0 ? blockDuration : null}::float8 * interval '1 millisecond')`;
    const overLimit = (hits: Prisma.Sql) => Prisma.sql`${hits} > ${limit}::float8`;

    // The states of the existing row `b` (its values before this hit):
    const blocked = Prisma.sql`(b.blocked_until > ${now})`;
    // Tested only when not blocked: the window is over, or a block was served.
    const fresh = Prisma.sql`(b.expires_at <= ${now} OR b.blocked_until IS NOT NULL)`;
    const hitsAfter = Prisma.sql`(CASE WHEN ${fresh} THEN 1 ELSE b.hits + 1 END)`;
    const windowEnd = Prisma.sql`(CASE WHEN ${fresh} THEN ${now} + ${ttlInterval} ELSE b.expires_at END)`;

    // ONE statement, no read-then-write: INSERT ... ON CONFLICT DO UPDATE takes the row
    // lock, and a concurrent increment of the same key (from this instance or another)
    // waits for it and then computes from the committed row. No hit is ever lost and two
    // requests can never both see "limit - 1", which a SELECT followed by an UPDATE (or
    // Prisma's upsert, which may do exactly that) would allow.
    const rows = await this.prisma.$queryRaw<ThrottlerStorageRecord[]>`
      INSERT INTO throttle_buckets AS b (key, hits, expires_at, blocked_until)
      VALUES (
        ${bucketKey(key, throttlerName)},
        1,
        ${now} + ${ttlInterval},
        CASE WHEN ${overLimit(Prisma.sql`1`)} THEN COALESCE(${now} + ${blockInterval}, ${now} + ${ttlInterval}) END
      )
      ON CONFLICT (key) DO UPDATE SET
        hits          = CASE WHEN ${blocked} THEN b.hits ELSE ${hitsAfter} END,
        expires_at    = CASE WHEN ${blocked} THEN b.expires_at ELSE ${windowEnd} END,
        blocked_until = CASE
                          WHEN ${blocked} THEN b.blocked_until
                          WHEN ${overLimit(hitsAfter)} THEN COALESCE(${now} + ${blockInterval}, ${windowEnd})
                        END
      RETURNING
        hits AS "totalHits",
        GREATEST(0, CEIL(EXTRACT(EPOCH FROM expires_at - ${now})))::int AS "timeToExpire",
        COALESCE(blocked_until > ${now}, false) AS "isBlocked",
        COALESCE(GREATEST(0, CEIL(EXTRACT(EPOCH FROM blocked_until - ${now}))), 0)::int AS "timeToBlockExpire"`;
    return rows[0];
  }

  /**
   * Deletes the rows whose window and block are both over, DELETE_BATCH_SIZE at a time
   * (one huge DELETE would hold many row locks and bloat one transaction); returns how
   * many it deleted. Safe while increments run: the outer WHERE is re-checked on the
   * current row version, so a row that an increment has just reopened is kept.
   */
  async purgeExpired(): Promise<number> {
    return deleteInBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM throttle_buckets
        WHERE key IN (
                SELECT key FROM throttle_buckets
                WHERE expires_at <= statement_timestamp()
                  AND (blocked_until IS NULL OR blocked_until <= statement_timestamp())
                LIMIT ${DELETE_BATCH_SIZE}
              )
          AND expires_at <= statement_timestamp()
          AND (blocked_until IS NULL OR blocked_until <= statement_timestamp())`,
    );
  }
}
