import { Injectable } from '@nestjs/common';
import { DELETE_BATCH_SIZE, deleteInBatches } from '../../database/batches';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import type { RevocationEvent as Row } from '../../generated/prisma/client';
import type { RevocationEvent } from './revocation-state';

/**
 * What the revocation channel carries: the events, "reload the signing keys" (no row,
 * nothing to refuse by itself), and "this client was deleted" (its feeds close).
 */
export type RevocationNotice = RevocationEvent | { kind: 'KEYS_CHANGED' } | { kind: 'CLIENT_DELETED'; clientId: string };

/** The NOTIFY channel revocations are announced on. */
export const REVOCATION_CHANNEL = 'auth_revocation';

/** An event as a change describes it; its time is the database's. */
export type NewRevocation =
  | { kind: 'SESSION_ENDED'; userId: string; sessionId: string }
  | { kind: 'USER_TOKENS_REVOKED'; userId: string; refreshTokenVersion: number }
  | { kind: 'ROLE_CHANGED'; userId: string; role: 'USER' | 'ADMIN' }
  | { kind: 'KEY_REVOKED'; kid: string };

/** Every query of `revocation_events`. */
@Injectable()
export class RevocationEventsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Writes `events` in the caller's transaction and announces each with NOTIFY, which
   * PostgreSQL delivers when (and only if) the transaction commits.
   */
  async record(tx: Tx, events: NewRevocation[]): Promise<RevocationEvent[]> {
    if (events.length === 0) return [];
    const rows = await tx.revocationEvent.createManyAndReturn({
      data: events.map((e) => ({
        kind: e.kind,
        userId: e.kind === 'KEY_REVOKED' ? null : e.userId,
        sessionId: e.kind === 'SESSION_ENDED' ? e.sessionId : null,
        refreshTokenVersion: e.kind === 'USER_TOKENS_REVOKED' ? e.refreshTokenVersion : null,
        role: e.kind === 'ROLE_CHANGED' ? e.role : null,
        kid: e.kind === 'KEY_REVOKED' ? e.kid : null,
      })),
    });
    const recorded = rows.map(toEvent);
    for (const event of recorded) await tx.$executeRaw`SELECT pg_notify(${REVOCATION_CHANNEL}, ${JSON.stringify(event)})`;
    return recorded;
  }

  /** The events younger than `windowMs`, oldest first. */
  async since(windowMs: number): Promise<RevocationEvent[]> {
    const rows = await this.prisma.revocationEvent.findMany({
      where: { createdAt: { gt: new Date(Date.now() - windowMs) } },
      orderBy: { id: 'asc' },
    });
    return rows.map(toEvent);
  }

  /** Deletes, in batches, events older than `seconds`: every token they refuse has expired. */
  deleteOlderThan(seconds: number): Promise<number> {
    return deleteInBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM revocation_events WHERE id IN (
          SELECT id FROM revocation_events WHERE created_at < now() - make_interval(secs => ${seconds}) LIMIT ${DELETE_BATCH_SIZE})`,
    );
  }
}

function toEvent(row: Row): RevocationEvent {
  const at = row.createdAt.getTime();
  const id = row.id.toString();
  switch (row.kind) {
    case 'SESSION_ENDED':
      return { kind: 'SESSION_ENDED', userId: row.userId!, sessionId: row.sessionId!, at, id };
    case 'USER_TOKENS_REVOKED':
      return { kind: 'USER_TOKENS_REVOKED', userId: row.userId!, refreshTokenVersion: row.refreshTokenVersion!, at, id };
    case 'KEY_REVOKED':
      return { kind: 'KEY_REVOKED', kid: row.kid!, at, id };
    default:
      return { kind: 'ROLE_CHANGED', userId: row.userId!, role: row.role as 'USER' | 'ADMIN', at, id };
  }
}
