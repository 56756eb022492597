import { Injectable } from '@nestjs/common';
import type { AuditEvent, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
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

type Db = Prisma.TransactionClient | PrismaService;

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
   * Writes an event; pass the transaction of the change it describes, so both commit
   * together. Every event reaches the subscribers of `audit.recorded` (a committed event:
   * they write in its transaction; WebhookEvents picks its types); an event recorded without
   * a transaction gets one of its own, so the event and what they write still commit together.
   */
  async record(entry: AuditEntry, db: Db = this.prisma): Promise<void> {
    if (!this.events.has('audit.recorded')) {
      await this.write(entry, db);
      return;
    }
    const inTransaction = async (tx: Prisma.TransactionClient) => {
      const event = await this.write(entry, tx);
      await this.events.emitInTransaction(tx, 'audit.recorded', event);
    };
    await (db === this.prisma ? this.prisma.$transaction(inTransaction) : inTransaction(db));
  }

  private write(entry: AuditEntry, db: Db): Promise<AuditEvent> {
    return db.auditEvent.create({
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

  /** Newest first. */
  page({ userId, type, beforeId, take }: AuditFilter): Promise<AuditEvent[]> {
    return this.prisma.auditEvent.findMany({
      where: { userId, type, ...(beforeId !== undefined && { id: { lt: beforeId } }) },
      orderBy: { id: 'desc' },
      take,
    });
  }
}
