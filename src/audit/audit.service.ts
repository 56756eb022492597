import { Injectable } from '@nestjs/common';
import type { AuditEvent, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import type { ClientMeta } from '../common/client-meta';

/** Every audit event type the server writes (API.md, "Audit event types"). */
export type AuditType =
  | 'user.registered'
  | 'login.succeeded'
  | 'login.failed'
  | 'token.refreshed'
  | 'token.reuse_detected'
  | 'session.revoked'
  | 'user.logged_out_everywhere'
  | 'user.force_logged_out'
  | 'user.role_changed'
  | 'user.disabled'
  | 'user.enabled'
  | 'password.changed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'email.verified'
  | 'key.rotated'
  | 'key.revoked'
  | 'client.created'
  | 'client.secret_rotated'
  | 'client.deleted'
  | 'client.auth_failed';

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
  constructor(private readonly prisma: PrismaService) {}

  /** Writes an event; pass the transaction of the change it describes, so both commit together. */
  async record(entry: AuditEntry, db: Db = this.prisma): Promise<void> {
    await db.auditEvent.create({
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
