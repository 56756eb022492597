import { Injectable } from '@nestjs/common';
import { DELETE_BATCH_SIZE, deleteInBatches } from '../database/batches';
import { PrismaService } from '../database/prisma.service';
import { Prisma, type OutboxDelivery, type OutboxKind, type OutboxStatus } from '../generated/prisma/client';
import type { ClaimedDelivery } from './delivery-handler';

/** Every instance's outbox worker LISTENs here: a row was written, deliver it now. */
export const OUTBOX_CHANNEL = 'auth_outbox';

/** `lastError` is for people: a line, not a dump. */
const ERROR_MAX = 500;

export interface NewDelivery {
  kind: OutboxKind;
  /** The recipient address, endpoint or client (shown to admins): never a body or a token. */
  target: string;
  eventType: string;
  /** What the handler needs; cleared once the row is delivered or failed. */
  payload: Prisma.InputJsonObject;
  /** Not delivered by then: dropped (failed) without an attempt. */
  expiresAt?: Date;
}

export interface DeliveryFilter {
  kind?: OutboxKind;
  status?: OutboxStatus;
  /** Rows older than this id (keyset pagination: ids only grow). */
  beforeId?: bigint;
  take: number;
}

interface ClaimedRow {
  id: bigint;
  kind: OutboxKind;
  target: string;
  event_type: string;
  payload: unknown;
  attempts: number;
  expired: boolean;
}

/**
 * The owner of `outbox`: rows are written in the transaction of the change they describe
 * (`enqueue`), claimed by a worker under a short lease (`claimDue`), and closed as
 * delivered, retried later or failed. A closed row keeps its facts for the admin API
 * (`page`) but loses its payload, which may hold a link's token.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Writes a delivery in `tx` (the transaction of the change) and NOTIFYs the workers,
   * which hear it only once `tx` commits: nothing is sent for a change that rolled back,
   * and nothing committed is lost.
   */
  async enqueue(tx: Prisma.TransactionClient, delivery: NewDelivery): Promise<void> {
    await tx.outboxDelivery.create({ data: delivery });
    await tx.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`;
  }

  /**
   * Claims up to `limit` due rows for `leaseMs`, in one statement (its own short
   * transaction): the lease is committed before anything is delivered, so no connection
   * is held while a receiver is slow, and another worker skips these rows (SKIP LOCKED
   * now, the lease after). A worker that dies mid-delivery leaves the lease to run out:
   * the row is claimed again (at least once). Each claim counts as an attempt.
   */
  async claimDue(limit: number, leaseMs: number): Promise<Array<ClaimedDelivery & { expired: boolean }>> {
    const rows = await this.prisma.$queryRaw<ClaimedRow[]>`
      WITH due AS (
        SELECT id FROM outbox
        WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY next_attempt_at, id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE outbox o SET claimed_until = now() + ${leaseMs} * interval '1 millisecond', attempts = o.attempts + 1
      FROM due WHERE o.id = due.id
      RETURNING o.id, o.kind::text AS kind, o.target, o.event_type, o.payload, o.attempts,
        (o.expires_at IS NOT NULL AND o.expires_at <= now()) AS expired`;
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      target: row.target,
      eventType: row.event_type,
      payload: row.payload,
      attempt: row.attempts,
      expired: row.expired,
    }));
  }

  /** When the next pending row comes due (its retry time, or its lease's end), if any. */
  async nextDueAt(): Promise<Date | undefined> {
    const [row] = await this.prisma.$queryRaw<{ at: Date | null }[]>`
      SELECT min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at))) AS at FROM outbox WHERE status = 'pending'`;
    return row?.at ?? undefined;
  }

  async delivered(id: bigint, statusCode: number | undefined): Promise<void> {
    await this.prisma.outboxDelivery.update({
      where: { id },
      data: { status: 'delivered', lastStatusCode: statusCode ?? null, lastError: null, nextAttemptAt: null, claimedUntil: null, payload: Prisma.DbNull },
    });
  }

  async retryLater(id: bigint, error: string, statusCode: number | undefined, delayMs: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE outbox SET last_error = ${error.slice(0, ERROR_MAX)}, last_status_code = ${statusCode ?? null},
        next_attempt_at = now() + ${delayMs} * interval '1 millisecond', claimed_until = NULL
      WHERE id = ${id}`;
  }

  async failed(id: bigint, error: string, statusCode: number | undefined): Promise<void> {
    await this.prisma.outboxDelivery.update({
      where: { id },
      data: { status: 'failed', lastError: error.slice(0, ERROR_MAX), lastStatusCode: statusCode ?? null, nextAttemptAt: null, claimedUntil: null, payload: Prisma.DbNull },
    });
  }

  /** Newest first. */
  page({ kind, status, beforeId, take }: DeliveryFilter): Promise<OutboxDelivery[]> {
    return this.prisma.outboxDelivery.findMany({
      where: { kind, status, ...(beforeId !== undefined && { id: { lt: beforeId } }) },
      orderBy: { id: 'desc' },
      take,
    });
  }

  /** The cleanup: delivered and failed rows older than `days`, in batches (pending ones are never deleted). */
  deleteClosedOlderThan(days: number): Promise<number> {
    return deleteInBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM outbox WHERE id IN (
          SELECT id FROM outbox WHERE status <> 'pending' AND created_at < now() - ${days} * interval '1 day' LIMIT ${DELETE_BATCH_SIZE})`,
    );
  }
}
