import { Injectable } from '@nestjs/common';
import { DELETE_BATCH_SIZE, deleteInBatches } from '../database/batches';
import { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import { Prisma, type OutboxDelivery, type OutboxStatus } from '../generated/prisma/client';
import type { ClaimedDelivery } from './delivery-handler';
import type { OutboxKind } from './outbox-kinds';

/** Every instance's outbox worker LISTENs here: a row was written, deliver it now. */
export const OUTBOX_CHANNEL = 'auth_outbox';

/**
 * A closed row keeps its payload unless it is a mail's: a mail's holds its link's token;
 * a webhook's body and a logout's subject hold none, and an admin's retry needs them.
 */
const KEPT_PAYLOAD = Prisma.sql`CASE WHEN outbox.kind = 'mail' THEN NULL ELSE outbox.payload END`;

/** `lastError` is for people: a line, not a dump. */
const ERROR_MAX = 500;

export interface NewDelivery {
  kind: OutboxKind;
  /** The recipient address, endpoint or client (shown to admins): never a body or a token. */
  target: string;
  eventType: string;
  /** What the handler needs; a mail's is cleared once the row is delivered or failed (it holds a link's token). */
  payload: Prisma.InputJsonObject;
  /** The webhook endpoint or client it goes to (its deliveries are listed by it). */
  endpointId?: string;
  /** Not delivered by then: dropped (failed) without an attempt. */
  expiresAt?: Date;
  /** The account a mail concerns: its deletion cancels the mail while it is pending (`cancelMailsOf`). */
  userId?: string;
}

export interface DeliveryFilter {
  kind?: string;
  endpointId?: string;
  status?: OutboxStatus;
  /** Rows older than this id (keyset pagination: ids only grow). */
  beforeId?: bigint;
  take: number;
}

interface ClaimedRow {
  id: bigint;
  kind: string;
  target: string;
  event_type: string;
  payload: unknown;
  endpoint_id: string | null;
  attempts: number;
  expired: boolean;
}

/**
 * The owner of `outbox`: rows are written in the transaction of the change they describe
 * (`enqueue`), claimed by a worker under a short lease (`claimDue`), and closed as
 * delivered, retried later or failed. A closed row keeps its facts for the admin API
 * (`page`); a closed mail loses its payload, which holds a link's token.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Writes a delivery in `tx` (the transaction of the change) and NOTIFYs the workers,
   * which hear it only once `tx` commits: nothing is sent for a change that rolled back,
   * and nothing committed is lost.
   */
  async enqueue(tx: Tx, delivery: NewDelivery): Promise<void> {
    await tx.outboxDelivery.create({ data: delivery });
    await tx.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`;
  }

  /**
   * `enqueue` for the rows a query yields, in one statement (with its NOTIFY, when it yields
   * any): an event fanned out to the endpoints that want it, in the event's transaction, at
   * the cost of one round trip whether there are none or many. `rows` selects, in order,
   * kind, target, event_type, payload (jsonb) and endpoint_id: the owner of the endpoints'
   * table writes it (see WebhooksRepository.deliveriesOf, ClientsRepository.logoutDeliveries).
   */
  async enqueueFrom(tx: Tx, rows: Prisma.Sql): Promise<void> {
    await tx.$queryRaw`
      WITH inserted AS (INSERT INTO outbox (kind, target, event_type, payload, endpoint_id) ${rows} RETURNING 1)
      SELECT pg_notify(${OUTBOX_CHANNEL}, '')::text AS notified FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row`;
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
      RETURNING o.id, o.kind::text AS kind, o.target, o.event_type, o.payload, o.endpoint_id::text AS endpoint_id, o.attempts,
        (o.expires_at IS NOT NULL AND o.expires_at <= now()) AS expired`;
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      target: row.target,
      eventType: row.event_type,
      payload: row.payload,
      endpointId: row.endpoint_id,
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

  /** For the metrics: pending and failed rows, and how long the oldest due row has waited (seconds; 0: none is due). */
  async backlog(): Promise<{ pending: number; failed: number; oldestDueSeconds: number }> {
    const [row] = await this.prisma.$queryRaw<{ pending: number; failed: number; oldest: number | null }[]>`
      SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'failed')::int AS failed,
        extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE status = 'pending' AND next_attempt_at <= now()))::float8 AS oldest
      FROM outbox WHERE status IN ('pending', 'failed')`;
    return { pending: row.pending, failed: row.failed, oldestDueSeconds: Math.max(0, row.oldest ?? 0) };
  }

  /** Records the deliveries of a round in one statement. */
  async delivered(rows: Array<{ id: bigint; statusCode?: number }>): Promise<void> {
    if (rows.length === 0) return;
    const outcomes = JSON.stringify(rows.map((row) => ({ id: row.id.toString(), code: row.statusCode ?? null })));
    await this.prisma.$executeRaw`
      UPDATE outbox SET status = 'delivered', last_status_code = d.code, last_error = NULL, next_attempt_at = NULL,
        claimed_until = NULL, payload = ${KEPT_PAYLOAD}
      FROM jsonb_to_recordset(${outcomes}::jsonb) AS d(id bigint, code int)
      WHERE outbox.id = d.id`;
  }

  async retryLater(id: bigint, error: string, statusCode: number | undefined, delayMs: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE outbox SET last_error = ${error.slice(0, ERROR_MAX)}, last_status_code = ${statusCode ?? null},
        next_attempt_at = now() + ${delayMs} * interval '1 millisecond', claimed_until = NULL
      WHERE id = ${id}`;
  }

  async failed(id: bigint, error: string, statusCode: number | undefined): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE outbox SET status = 'failed', last_error = ${error.slice(0, ERROR_MAX)}, last_status_code = ${statusCode ?? null},
        next_attempt_at = NULL, claimed_until = NULL, payload = ${KEPT_PAYLOAD}
      WHERE id = ${id}`;
  }

  /**
   * An admin's retry: the delivery (of that endpoint) is due again now, for one more attempt
   * (a failure after it is final again: the schedule was spent). A delivery being attempted
   * right now is left to that attempt. Whether such a delivery exists.
   */
  async retryNow(id: bigint, endpointId: string): Promise<boolean> {
    const [row] = await this.prisma.$queryRaw<{ id: bigint }[]>`
      WITH found AS (SELECT id FROM outbox WHERE id = ${id} AND endpoint_id = ${endpointId}::uuid AND payload IS NOT NULL)
      UPDATE outbox o SET status = 'pending', next_attempt_at = now()
      FROM found WHERE o.id = found.id AND (o.claimed_until IS NULL OR o.claimed_until < now() OR o.status <> 'pending')
      RETURNING o.id`;
    if (row) await this.prisma.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`;
    else return (await this.prisma.outboxDelivery.count({ where: { id, endpointId, payload: { not: Prisma.DbNull } } })) > 0;
    return true;
  }

  /** Pending deliveries to an endpoint that is gone or disabled: failed now, with `reason` (in `tx`, the endpoint's deletion). */
  async failPendingOf(tx: Tx, endpointId: string, reason: string): Promise<void> {
    await tx.$executeRaw`
      UPDATE outbox SET status = 'failed', last_error = ${reason}, next_attempt_at = NULL, claimed_until = NULL
      WHERE endpoint_id = ${endpointId}::uuid AND status = 'pending'`;
  }

  /**
   * In `tx`, an account's deletion: its mails not yet sent never will be (failed, their
   * payload and its link token cleared). Those written for the account (`user_id`), and
   * any other pending mail to its address (a notice written without the account's id).
   * A row a worker claimed before this commits may already be on its way to SMTP: the
   * lease is taken and committed before the send, so nothing can recall that one. Returns
   * how many were cancelled.
   */
  cancelMailsOf(tx: Tx, userId: string, email: string, reason: string): Promise<number> {
    return tx.$executeRaw`
      UPDATE outbox SET status = 'failed', last_error = ${reason}, next_attempt_at = NULL, claimed_until = NULL, payload = NULL
      WHERE kind = 'mail' AND status = 'pending' AND (user_id = ${userId}::uuid OR target = ${email})`;
  }

  /** The same as a statement of its own (the endpoint answered 410 Gone and was disabled). */
  failPendingOfAlone(endpointId: string, reason: string): Promise<void> {
    return this.failPendingOf(this.prisma, endpointId, reason);
  }

  /** Newest first. */
  page({ kind, endpointId, status, beforeId, take }: DeliveryFilter): Promise<OutboxDelivery[]> {
    return this.prisma.outboxDelivery.findMany({
      where: { kind, endpointId, status, ...(beforeId !== undefined && { id: { lt: beforeId } }) },
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
