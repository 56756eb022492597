import { Injectable } from '@nestjs/common';
import { Prisma, type AuditEvent } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import type { ClientMeta } from '../common/client-meta';
import { EventBus } from '../events/event-bus';
import type { AuditType } from './audit-types';

export type { AuditType };

export interface AuditEntry {
  type: AuditType;
  userId?: string | null;
  actorId?: string | null;
  sessionId?: string | null;
  client?: ClientMeta;
  /** Facts about the event. Never a password, a token or a hash. */
  data?: Prisma.InputJsonObject;
}

/** The INSERT of one event per row of `rows` (a SELECT of user_id, session_id, data): a CTE body returning their ids. */
export type AuditInsert = (rows: Prisma.Sql) => Prisma.Sql;

export interface AuditFilter {
  userId?: string;
  type?: string;
  /** Events older than this id (keyset pagination: ids only grow). */
  beforeId?: bigint;
  take: number;
}

/** The owner of `audit_events`: written with the change it describes, read newest first. */
@Injectable()
export class AuditService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly events: EventBus,
  ) {}

  /**
   * Writes an event in `tx`, the transaction of the change it describes: both commit or
   * neither does, and the subscribers of `audit.recorded` that take its type write there
   * (a committed event: WebhookEvents queues its webhooks). One INSERT when none does.
   */
  async record(tx: Tx, entry: AuditEntry): Promise<void> {
    const event = await this.write(tx, entry);
    if (this.events.has('audit.recorded', entry.type)) await this.events.emitInTransaction(tx, 'audit.recorded', event);
  }

  /**
   * Writes an event that comes with no other write (a failed login, a retry asked for). It
   * gets a transaction of its own when it has subscribers, so the event and what they write
   * commit together; events nobody subscribes to cost one INSERT and nothing else.
   */
  async recordAlone(entry: AuditEntry): Promise<void> {
    if (this.events.has('audit.recorded', entry.type)) await this.prisma.$transaction((tx) => this.record(tx, entry));
    else await this.write(this.prisma, entry);
  }

  /**
   * Records the events of a change written in one statement, in that statement: the refresh,
   * a hot path (one round trip; an interactive transaction with a separate INSERT costs it
   * about three times the CPU). `change(tx, insert)` runs the statement with `insert(rows)`
   * among its CTEs and returns its result and the ids `insert` returned. The subscribers run
   * in the statement's transaction as with `record`: with subscribers it gets one; without
   * (the refresh's event today), the statement runs alone.
   */
  async recordInStatement<T>(
    type: AuditType,
    client: ClientMeta,
    change: (tx: Tx, insert: AuditInsert) => Promise<{ result: T; eventIds: bigint[] }>,
  ): Promise<T> {
    const insert: AuditInsert = (rows) => Prisma.sql`
      INSERT INTO audit_events (type, user_id, session_id, ip, user_agent, data)
      SELECT ${type}, e.user_id, e.session_id, ${client.ip}, ${client.userAgent}, e.data FROM (${rows}) AS e (user_id, session_id, data)
      RETURNING id`;
    if (!this.events.has('audit.recorded', type)) return (await change(this.prisma, insert)).result;
    return this.prisma.$transaction(async (tx) => {
      const { result, eventIds } = await change(tx, insert);
      const events = await tx.auditEvent.findMany({ where: { id: { in: eventIds } }, orderBy: { id: 'asc' } });
      for (const event of events) await this.events.emitInTransaction(tx, 'audit.recorded', event);
      return result;
    });
  }

  private write(tx: Tx, entry: AuditEntry): Promise<AuditEvent> {
    return tx.auditEvent.create({
      data: {
        type: entry.type,
        userId: entry.userId ?? null,
        actorId: entry.actorId ?? null,
        sessionId: entry.sessionId ?? null,
        ip: entry.client?.ip ?? null,
        userAgent: entry.client?.userAgent ?? null,
        data: entry.data,
      },
    });
  }

  /**
   * In `tx`, an account's deletion: the address goes from the events that named it (a failed
   * login's `data.email`, the invitation's), the rest stays (the ids, what happened, when,
   * from which IP and user agent). Two indexed conditions: the account's events, and the
   * invitations of its address.
   */
  async forgetEmailOf(tx: Tx, userId: string, email: string): Promise<number> {
    return tx.$executeRaw`
      UPDATE audit_events SET data = data - 'email'
      WHERE (user_id = ${userId}::uuid OR (type = 'user.invited' AND data->>'email' = ${email})) AND data ? 'email'`;
  }

  /** Newest first. */
  page({ userId, type, beforeId, take }: AuditFilter): Promise<AuditEvent[]> {
    return this.prisma.auditEvent.findMany({
      where: { userId, type, ...(beforeId !== undefined && { id: { lt: beforeId } }) },
      orderBy: { id: 'desc' },
      take,
    });
  }
}
