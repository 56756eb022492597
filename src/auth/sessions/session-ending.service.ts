import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { SessionEndReason } from '../../generated/prisma/client';
import { UsersRepository } from '../../users/users.repository';
import { RevocationService, type Revoke } from '../revocation/revocation.service';
import { SessionsRepository, type SessionFilter } from './sessions.repository';
import type { Tx } from '../../database/tx';

export interface EndOneRequest {
  /** Who ends it: the owner, an admin, or the owner of the token (RFC 7009). */
  actorId: string;
  reason: SessionEndReason;
  client: ClientMeta;
}

/**
 * How sessions end. Every end happens inside a revocation transaction and declares itself
 * there, so that the session's access tokens are refused on the very next request, on
 * every instance.
 */
@Injectable()
export class SessionEndingService {
  constructor(
    private readonly revocation: RevocationService,
    private readonly sessions: SessionsRepository,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
  ) {}

  /** Ends the sessions matching `filter` (inside the caller's revocation transaction). Returns them. */
  async endMany(tx: Tx, revoke: Revoke, filter: SessionFilter, reason: SessionEndReason) {
    const ended = await this.sessions.end(tx, filter, reason);
    ended.forEach((s) => revoke({ kind: 'SESSION_ENDED', userId: s.userId, sessionId: s.id }));
    return ended;
  }

  /**
   * Ends every session of a user and raises `refreshTokenVersion`, so that every access
   * token issued before (whatever its session) is refused: logout-all, force-logout,
   * disabling. Returns how many sessions ended.
   */
  async endAllOfUser(tx: Tx, revoke: Revoke, userId: string, reason: SessionEndReason): Promise<number> {
    const refreshTokenVersion = await this.users.bumpTokenVersion(tx, userId);
    revoke({ kind: 'USER_TOKENS_REVOKED', userId, refreshTokenVersion });
    // One version event covers them all: no SESSION_ENDED per session.
    return (await this.sessions.end(tx, { userId }, reason)).length;
  }

  /**
   * Ends the one session matching `filter` (if it has not ended yet), with its
   * `session.revoked` audit event, in a revocation transaction of its own: logout,
   * RFC 7009 revoke, DELETE /auth/sessions/:id, DELETE /admin/sessions/:id. Whether it ended.
   */
  endOne(filter: SessionFilter & { id: string }, { actorId, reason, client }: EndOneRequest): Promise<boolean> {
    return this.revocation.transaction(async (tx, revoke) => {
      const [ended] = await this.endMany(tx, revoke, filter, reason);
      // None when it had ended already (or a concurrent request ended it: that one audits).
      if (!ended) return false;
      await this.audit.record(tx, { type: 'session.revoked', userId: ended.userId, actorId, sessionId: ended.id, client, data: { reason } });
      return true;
    });
  }

  /** A rotated-away refresh token came back: the whole session ends (its newest token and access tokens too). */
  async endForReuse(session: { id: string; userId: string }, generations: { presented?: number; current?: number }, client: ClientMeta) {
    await this.revocation.transaction(async (tx, revoke) => {
      const ended = await this.endMany(tx, revoke, { id: session.id }, 'REUSE_DETECTED');
      if (ended.length === 0) return;
      await this.audit.record(tx, {
        type: 'token.reuse_detected',
        userId: session.userId,
        sessionId: session.id,
        client,
        data: { presentedGeneration: generations.presented ?? null, currentGeneration: generations.current ?? null },
      });
    });
  }
}
