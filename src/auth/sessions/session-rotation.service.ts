import { Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import { MetricsService } from '../../metrics/metrics.service';
import type { User } from '../../generated/prisma/client';
import type { Acr } from '@nest-auth-backend/token-contract';
import { RefreshTokens } from '../tokens/refresh-token';
import { decideRotation, type RotationDecision } from './rotation-decision';
import { SessionEndingService } from './session-ending.service';
import { SessionsRepository, type RotatedSession } from './sessions.repository';
import type { Tx } from '../../database/tx';

export const REFRESH_ERRORS = {
  invalid: 'Invalid refresh token',
  ended: 'Session has ended',
  expired: 'Session has expired',
  reused: 'Refresh token was already used; the session has been ended',
} as const satisfies Record<Exclude<RotationDecision, 'grace' | 'reuse'> | 'reused', string>;

/** A session just opened or rotated, with its refresh token in clear: returned to the client once, never stored. */
export interface SessionGrant extends RotatedSession {
  refreshToken: string;
}

/** What the sign-in that opens a session proved (src/auth/sign-in): kept on it for its life. */
export interface SessionFacts {
  amr: string[];
  acr: Acr;
}

/**
 * A session's refresh token over its life: issued when the session opens, rotated on
 * every use, with the grace for concurrent refreshes and reuse detection (the decision
 * table is rotation-decision.ts).
 */
@Injectable()
export class SessionRotationService {
  private readonly ttl: AppConfig['auth'];

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly refreshTokens: RefreshTokens,
    private readonly endings: SessionEndingService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttl = config.get('auth', { infer: true });
  }

  /** Opens a session for `user` (inside the caller's transaction) with the facts of its sign-in, authenticated now. */
  async open(tx: Tx, user: User, client: ClientMeta, facts: SessionFacts): Promise<SessionGrant> {
    const refreshToken = this.refreshTokens.issue();
    const now = Date.now();
    const absoluteExpiresAt = new Date(now + this.ttl.sessionAbsoluteTtl * 1000);
    const idleExpiresAt = new Date(Math.min(now + this.ttl.sessionIdleTtl * 1000, absoluteExpiresAt.getTime()));
    const session = await this.sessions.create(tx, {
      userId: user.id,
      refreshTokenHash: this.refreshTokens.hash(refreshToken),
      idleExpiresAt,
      absoluteExpiresAt,
      client,
      authTime: new Date(now),
      amr: facts.amr,
      acr: facts.acr,
    });
    return { session, user, refreshToken };
  }

  /**
   * Exchanges a refresh token for its successor. One conditional UPDATE rotates it and
   * writes its `token.refreshed` event (see SessionsRepository.rotate; AuditService's
   * subscribers see it); a token that did not rotate is judged by decideRotation:
   * within the grace every holder gets the same successor (derived, see refresh-token.ts),
   * so a session never has two valid refresh tokens; reuse ends the whole session.
   */
  async rotate(presented: string, client: ClientMeta): Promise<SessionGrant> {
    if (!this.refreshTokens.isWellFormed(presented)) throw new UnauthorizedException(REFRESH_ERRORS.invalid);
    const presentedHash = this.refreshTokens.hash(presented);
    const successor = this.refreshTokens.successorOf(presented);
    const rotation = { presentedHash, successorHash: this.refreshTokens.hash(successor), idleTtlSeconds: this.ttl.sessionIdleTtl, client };
    const rotated = await this.audit.recordInStatement('token.refreshed', client, async (tx, insertEvent) => {
      const result = await this.sessions.rotate(tx, rotation, insertEvent);
      return { result, eventIds: result ? [result.eventId] : [] };
    });
    if (!rotated) return this.replay(presented, presentedHash, client);
    this.metrics.refresh('rotated');
    return { session: rotated.session, user: rotated.user, refreshToken: successor };
  }

  /** The presented token is not the current one of a live session: grace, reuse, or refusal. */
  private async replay(presented: string, presentedHash: string, client: ClientMeta): Promise<SessionGrant> {
    const { facts, session: found } = await this.sessions.presentedToken(presentedHash);
    // Under the current secret, or under AUTH_SECRET_PREVIOUS when the rotation happened before the secret's.
    const successor =
      found && this.refreshTokens.successorsOf(presented).find((s) => this.refreshTokens.matches(this.refreshTokens.hash(s), found.refreshTokenHash));
    const successorIsCurrent = successor !== undefined;
    const decision = decideRotation({ ...facts, successorIsCurrent }, this.ttl.refreshReuseGrace * 1000);
    this.metrics.refresh(decision === 'grace' ? 'concurrent' : decision === 'reuse' ? 'reused' : decision);
    if (decision === 'grace' && found && successor) {
      const { user, ...session } = found;
      const data = { generation: session.generation, concurrent: true };
      await this.audit.recordAlone({ type: 'token.refreshed', userId: user.id, sessionId: session.id, client, data });
      return { session, user, refreshToken: successor };
    }
    if (decision === 'reuse' && found) {
      await this.endings.endForReuse(found, { presented: facts.presentedGeneration, current: facts.currentGeneration }, client);
      throw new UnauthorizedException(REFRESH_ERRORS.reused);
    }
    throw new UnauthorizedException(REFRESH_ERRORS[decision === 'reuse' || decision === 'grace' ? 'invalid' : decision]);
  }
}
