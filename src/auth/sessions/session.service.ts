import { Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import { PrismaService } from '../../database/prisma.service';
import type { Prisma, Session, SessionEndReason, User } from '../../generated/prisma/client';
import { RevocationService, type Revoke } from '../revocation/revocation.service';
import { hashRefreshToken, newRefreshToken, REFRESH_TOKEN_PATTERN, sameHash, successorOf } from '../tokens/refresh-token';
import { TokenService } from '../tokens/token.service';

export const REFRESH_ERRORS = {
  invalid: 'Invalid refresh token',
  ended: 'Session has ended',
  expired: 'Session has expired',
  reused: 'Refresh token was already used; the session has been ended',
} as const;

export interface IssuedSession {
  session: Session;
  user: User;
  /** The refresh token in clear: returned to the client once, never stored. */
  refreshToken: string;
}

/** A session that is active now: not ended, not past either expiry. */
export const activeSessionWhere = (now = new Date()): Prisma.SessionWhereInput => ({
  revokedAt: null,
  idleExpiresAt: { gt: now },
  absoluteExpiresAt: { gt: now },
});

/**
 * The session lifecycle: creation at login, rotation of its refresh token (with reuse
 * detection and the concurrent-refresh grace), and its end. Every end goes through
 * RevocationService, so that the session's access tokens stop working at once.
 */
@Injectable()
export class SessionService {
  private readonly ttl: AppConfig['auth'];

  constructor(
    private readonly prisma: PrismaService,
    private readonly revocation: RevocationService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttl = config.get('auth', { infer: true });
  }

  /** Opens a session for `user` (inside the caller's transaction). */
  async create(tx: Prisma.TransactionClient, user: User, client: ClientMeta): Promise<IssuedSession> {
    const refreshToken = newRefreshToken();
    const now = Date.now();
    const absoluteExpiresAt = new Date(now + this.ttl.sessionAbsoluteTtl * 1000);
    const session = await tx.session.create({
      data: {
        userId: user.id,
        refreshTokenHash: hashRefreshToken(refreshToken),
        idleExpiresAt: new Date(Math.min(now + this.ttl.sessionIdleTtl * 1000, absoluteExpiresAt.getTime())),
        absoluteExpiresAt,
        userAgent: client.userAgent,
        ip: client.ip,
      },
    });
    return { session, user, refreshToken };
  }

  /**
   * Exchanges a refresh token for its successor.
   *
   * The rotation is one conditional UPDATE (`WHERE refresh_token_hash = <presented>`): of
   * any number of concurrent requests with one token, exactly one rotates it. The others
   * find the token among the rotated ones; within REFRESH_REUSE_GRACE of its rotation
   * they receive the same successor (derived, see refresh-token.ts), so a session never
   * has two valid refresh tokens. Any other return of a rotated token is reuse: the whole
   * session ends, its newest refresh token and its access tokens with it.
   */
  async rotate(presented: string, client: ClientMeta): Promise<IssuedSession> {
    if (!REFRESH_TOKEN_PATTERN.test(presented)) throw new UnauthorizedException(REFRESH_ERRORS.invalid);
    const presentedHash = hashRefreshToken(presented);
    const successor = successorOf(presented, this.tokens.refreshDerivationKey);

    const rotated = await this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`
        UPDATE sessions s
           SET refresh_token_hash = ${hashRefreshToken(successor)},
               generation         = s.generation + 1,
               rotated_at         = now(),
               last_used_at       = now(),
               idle_expires_at    = LEAST(now() + make_interval(secs => ${this.ttl.sessionIdleTtl}), s.absolute_expires_at),
               ip                 = ${client.ip},
               user_agent         = ${client.userAgent}
          FROM users u
         WHERE s.refresh_token_hash = ${presentedHash}
           AND u.id = s.user_id AND NOT u.disabled
           AND s.revoked_at IS NULL AND s.idle_expires_at > now() AND s.absolute_expires_at > now()
        RETURNING s.id`;
      if (rows.length === 0) return null;
      const session = await tx.session.findUniqueOrThrow({ where: { id: rows[0].id }, include: { user: true } });
      await tx.rotatedRefreshToken.create({
        data: { tokenHash: presentedHash, sessionId: session.id, generation: session.generation - 1 },
      });
      await this.audit.record(
        { type: 'token.refreshed', userId: session.userId, sessionId: session.id, client, data: { generation: session.generation } },
        tx,
      );
      return session;
    });
    if (rotated) {
      const { user, ...session } = rotated;
      return { session, user, refreshToken: successor };
    }
    return this.replay(presentedHash, successor, client);
  }

  /** The presented token is not the current one of a live session: grace, reuse, or refusal. */
  private async replay(presentedHash: string, successor: string, client: ClientMeta): Promise<IssuedSession> {
    const previous = await this.prisma.rotatedRefreshToken.findUnique({
      where: { tokenHash: presentedHash },
      include: { session: { include: { user: true } } },
    });
    if (!previous) {
      // Never rotated: unknown, or the current token of a session that ended or expired.
      const session = await this.prisma.session.findUnique({ where: { refreshTokenHash: presentedHash } });
      if (!session) throw new UnauthorizedException(REFRESH_ERRORS.invalid);
      throw new UnauthorizedException(session.revokedAt ? REFRESH_ERRORS.ended : REFRESH_ERRORS.expired);
    }
    const { session: sessionWithUser } = previous;
    const { user, ...session } = sessionWithUser;
    if (session.revokedAt || user.disabled) throw new UnauthorizedException(REFRESH_ERRORS.ended);
    const now = Date.now();
    if (session.idleExpiresAt.getTime() <= now || session.absoluteExpiresAt.getTime() <= now) {
      throw new UnauthorizedException(REFRESH_ERRORS.expired);
    }
    const isJustRotated = previous.generation === session.generation - 1;
    const withinGrace = session.rotatedAt !== null && now - session.rotatedAt.getTime() <= this.ttl.refreshReuseGrace * 1000;
    if (isJustRotated && withinGrace && sameHash(hashRefreshToken(successor), session.refreshTokenHash)) {
      await this.audit.record({
        type: 'token.refreshed',
        userId: user.id,
        sessionId: session.id,
        client,
        data: { generation: session.generation, concurrent: true },
      });
      return { session, user, refreshToken: successor };
    }
    await this.revocation.transaction(async (tx, revoke) => {
      const ended = await this.endWhere(tx, revoke, { id: session.id }, 'REUSE_DETECTED');
      if (ended.length === 0) return;
      await this.audit.record(
        {
          type: 'token.reuse_detected',
          userId: user.id,
          sessionId: session.id,
          client,
          data: { presentedGeneration: previous.generation, currentGeneration: session.generation },
        },
        tx,
      );
    });
    throw new UnauthorizedException(REFRESH_ERRORS.reused);
  }

  /**
   * Ends the active sessions matching `where`, inside the caller's revocation
   * transaction, and declares each end so its access tokens are refused at once.
   * Returns the sessions it ended.
   */
  async endWhere(
    tx: Prisma.TransactionClient,
    revoke: Revoke,
    where: Prisma.SessionWhereInput,
    reason: SessionEndReason,
  ): Promise<{ id: string; userId: string }[]> {
    const sessions = await tx.session.updateManyAndReturn({
      where: { ...where, revokedAt: null },
      data: { revokedAt: new Date(), revokedReason: reason },
      select: { id: true, userId: true },
    });
    sessions.forEach((s) => revoke({ kind: 'SESSION_ENDED', userId: s.userId, sessionId: s.id }));
    return sessions;
  }

  /**
   * Ends every session of a user and raises `refreshTokenVersion`, so that every access
   * token issued before (whatever its session) is refused: logout-all, force-logout,
   * disabling. Returns how many sessions ended.
   */
  async endAllOfUser(
    tx: Prisma.TransactionClient,
    revoke: Revoke,
    userId: string,
    reason: SessionEndReason,
  ): Promise<number> {
    const { refreshTokenVersion } = await tx.user.update({
      where: { id: userId },
      data: { refreshTokenVersion: { increment: 1 } },
      select: { refreshTokenVersion: true },
    });
    revoke({ kind: 'USER_TOKENS_REVOKED', userId, refreshTokenVersion });
    const { count } = await tx.session.updateMany({
      where: { userId, revokedAt: null },
      data: { revokedAt: new Date(), revokedReason: reason },
    });
    return count;
  }

  /**
   * Ends the one session matching `where` (if it has not ended yet), with its
   * `session.revoked` audit event, in one revocation transaction: logout, RFC 7009 revoke,
   * DELETE /auth/sessions/:id, DELETE /admin/sessions/:id. Returns whether it ended.
   */
  async endOne(
    where: Prisma.SessionWhereInput,
    { actorId, reason, client }: { actorId: string; reason: SessionEndReason; client: ClientMeta },
  ): Promise<boolean> {
    return this.revocation.transaction(async (tx, revoke) => {
      const [ended] = await this.endWhere(tx, revoke, where, reason);
      // None when it had ended already (or a concurrent request ended it: that one audits).
      if (!ended) return false;
      await this.audit.record(
        { type: 'session.revoked', userId: ended.userId, actorId, sessionId: ended.id, client, data: { reason } },
        tx,
      );
      return true;
    });
  }

  /** Finds the active session whose current refresh token this is (for RFC 7009 revoke). */
  async findByRefreshToken(token: string): Promise<Session | null> {
    if (!REFRESH_TOKEN_PATTERN.test(token)) return null;
    const hash = hashRefreshToken(token);
    const current = await this.prisma.session.findUnique({ where: { refreshTokenHash: hash } });
    if (current) return current;
    const rotated = await this.prisma.rotatedRefreshToken.findUnique({ where: { tokenHash: hash }, include: { session: true } });
    return rotated?.session ?? null;
  }
}
