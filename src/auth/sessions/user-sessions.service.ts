import { Injectable, NotFoundException } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { PrismaService } from '../../database/prisma.service';
import type { SessionEndReason } from '../../generated/prisma/client';
import type { AuthUser } from '../auth-user';
import { RevocationService } from '../revocation/revocation.service';
import { MySessionDto, SESSION_NOT_FOUND, SESSION_VIEW_FIELDS, SessionDto } from './session.dto';
import { activeSessionWhere, SessionService } from './session.service';

export interface EndSessionRequest {
  /** When set, only a session of this user may be ended (DELETE /auth/sessions/:id). */
  ownerId?: string;
  /** Who ends it: the owner, or an admin. */
  actorId: string;
  reason: Extract<SessionEndReason, 'SESSION_DELETED' | 'ADMIN_REVOKED'>;
  client: ClientMeta;
}

/** Sessions as people see and end them: "my devices" (/auth/sessions) and the admin routes. */
@Injectable()
export class UserSessionsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly revocation: RevocationService,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
  ) {}

  /** The user's active sessions, newest first. */
  async list(userId: string): Promise<SessionDto[]> {
    const rows = await this.prisma.session.findMany({
      where: { userId, ...activeSessionWhere() },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: SESSION_VIEW_FIELDS,
    });
    return rows.map((row) => SessionDto.from(row));
  }

  async listMine(me: AuthUser): Promise<MySessionDto[]> {
    return (await this.list(me.id)).map((session) => ({ ...session, current: session.id === me.sessionId }));
  }

  /**
   * Ends one active session, its access tokens at once. 404 when there is no active
   * session with this id — or, with `ownerId`, none of that user's: someone else's
   * session gets the very answer of an unknown id.
   */
  async end(sessionId: string, { ownerId, actorId, reason, client }: EndSessionRequest): Promise<void> {
    const where = { id: sessionId, ...(ownerId !== undefined && { userId: ownerId }), ...activeSessionWhere() };
    await this.revocation.transaction(async (tx, revoke) => {
      const session = await tx.session.findFirst({ where, select: { userId: true } });
      // Throwing rolls the transaction back: nothing is ended, nothing is declared.
      if (!session) throw new NotFoundException(SESSION_NOT_FOUND);
      // 0 when a concurrent request ended it first: that one is the one audited.
      if ((await this.sessions.endWhere(tx, revoke, where, reason)) === 0) throw new NotFoundException(SESSION_NOT_FOUND);
      await this.audit.record({ type: 'session.revoked', userId: session.userId, actorId, sessionId, client, data: { reason } }, tx);
    });
  }
}
