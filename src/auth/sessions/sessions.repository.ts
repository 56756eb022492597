import { Injectable } from '@nestjs/common';
import type { AuditInsert } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { DELETE_BATCH_SIZE, deleteInBatches } from '../../database/batches';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import { Prisma, type Session, type SessionEndReason, type User } from '../../generated/prisma/client';
import type { PresentedTokenFacts } from './rotation-decision';

/** Not past either expiry (alias `s`). */
const UNEXPIRED = Prisma.sql`(s.idle_expires_at > now() AND s.absolute_expires_at > now())`;
/** The one definition of an active session: not ended and not expired (alias `s`). */
const ACTIVE = Prisma.sql`(s.revoked_at IS NULL AND ${UNEXPIRED})`;

/** Which sessions an end applies to. Only sessions not ended yet are ever ended. */
export interface SessionFilter {
  id?: string;
  userId?: string;
  /** Every one but this (the caller's own, on a password change). */
  exceptId?: string;
  /** Only sessions still active: an expired one is "not found" to its owner. */
  activeOnly?: boolean;
}

export interface NewSession {
  userId: string;
  refreshTokenHash: string;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  client: ClientMeta;
  /** The facts of the sign-in that opens it (src/auth/sign-in). */
  authTime: Date;
  amr: string[];
  acr: string;
}

/** The user as a token response needs it: never the password hash. */
export type GrantedUser = Pick<User, 'id' | 'email' | 'emailVerified' | 'name' | 'role' | 'disabled' | 'refreshTokenVersion' | 'createdAt'>;

/** What a rotation returns: the session's new state (with the sign-in facts it keeps) and its user. */
export interface RotatedSession {
  session: Pick<Session, 'id' | 'generation' | 'absoluteExpiresAt' | 'authTime' | 'amr' | 'acr'>;
  user: GrantedUser;
}

type RotatedRow = { sessionId: string; generation: number; absoluteExpiresAt: Date; authTime: Date; amr: string[]; acr: string; eventId: bigint } & GrantedUser;

/** A session as "my devices" and the admin show it: never the refresh token hash. */
export type SessionView = Pick<Session, 'id' | 'createdAt' | 'lastUsedAt' | 'idleExpiresAt' | 'absoluteExpiresAt' | 'userAgent' | 'ip'>;

/** The session and user facts an access token is checked against when memory cannot be trusted. */
export interface SessionAuthority {
  userId: string;
  ended: boolean;
  refreshTokenVersion: number;
  role: User['role'];
}

/**
 * Every query of `sessions` and `rotated_refresh_tokens` (the hashes of rotated-away
 * refresh tokens, which only mean something beside their session). The rules about
 * sessions are stated here once, in SQL: what "active" means, what a rotation changes,
 * what an end changes, what the cleanup may delete.
 */
@Injectable()
export class SessionsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tx: Tx, session: NewSession): Promise<Session> {
    const { client, ...columns } = session;
    return tx.session.create({ data: { ...columns, userAgent: client.userAgent, ip: client.ip } });
  }

  /**
   * The rotation, one statement and one round trip: the session whose current token
   * hashes to `presentedHash` moves to `successorHash` if it is active and its user
   * enabled; the rotated-away hash is kept (reuse detection) and its audit event written
   * with `insertEvent` (AuditService.recordInStatement), all or nothing. Of any number of
   * concurrent requests with one token exactly one matches (the UPDATE's row lock). Null
   * when nothing rotated.
   */
  async rotate(
    tx: Tx,
    rotation: { presentedHash: string; successorHash: string; idleTtlSeconds: number; client: ClientMeta },
    insertEvent: AuditInsert,
  ): Promise<(RotatedSession & { eventId: bigint }) | null> {
    const { presentedHash, successorHash, idleTtlSeconds, client } = rotation;
    const [row] = await tx.$queryRaw<RotatedRow[]>`
      WITH rotated AS (
        UPDATE sessions s
           SET refresh_token_hash = ${successorHash},
               generation         = s.generation + 1,
               rotated_at         = now(),
               last_used_at       = now(),
               idle_expires_at    = LEAST(now() + make_interval(secs => ${idleTtlSeconds}), s.absolute_expires_at),
               ip                 = ${client.ip},
               user_agent         = ${client.userAgent}
          FROM users u
         WHERE s.refresh_token_hash = ${presentedHash} AND u.id = s.user_id AND NOT u.disabled AND ${ACTIVE}
        RETURNING s.id, s.user_id, s.generation, s.absolute_expires_at, s.auth_time, s.amr, s.acr
      ), kept AS (
        INSERT INTO rotated_refresh_tokens (token_hash, session_id, generation)
        SELECT ${presentedHash}, id, generation - 1 FROM rotated
      ), audited AS (${insertEvent(Prisma.sql`SELECT user_id, id, jsonb_build_object('generation', generation) FROM rotated`)})
      SELECT r.id AS "sessionId", r.generation, r.absolute_expires_at AS "absoluteExpiresAt", r.auth_time AS "authTime", r.amr, r.acr, (SELECT id FROM audited) AS "eventId",
             u.id, u.email, u.email_verified AS "emailVerified", u.name, u.role::text AS role, u.disabled, u.refresh_token_version AS "refreshTokenVersion", u.created_at AS "createdAt"
        FROM rotated r JOIN users u ON u.id = r.user_id`;
    if (!row) return null;
    const { sessionId, generation, absoluteExpiresAt, authTime, amr, acr, eventId, ...user } = row;
    return { session: { id: sessionId, generation, absoluteExpiresAt, authTime, amr, acr }, user, eventId };
  }

  /** What the database says about a presented token that did not rotate (see rotation-decision.ts). */
  async presentedToken(presentedHash: string): Promise<{ facts: PresentedTokenFacts; session?: Session & { user: User } }> {
    const [row] = await this.prisma.$queryRaw<
      { sessionId: string; presentedGeneration: number | null; ended: boolean; expired: boolean; sinceRotationMs: number | null }[]
    >`
      SELECT s.id AS "sessionId", p.generation AS "presentedGeneration",
             (s.revoked_at IS NOT NULL OR u.disabled) AS ended, NOT ${UNEXPIRED} AS expired,
             (EXTRACT(EPOCH FROM now() - s.rotated_at) * 1000)::float8 AS "sinceRotationMs"
        FROM (SELECT id AS session_id, NULL::int AS generation FROM sessions WHERE refresh_token_hash = ${presentedHash}
              UNION ALL
              SELECT session_id, generation FROM rotated_refresh_tokens WHERE token_hash = ${presentedHash}) p
        JOIN sessions s ON s.id = p.session_id
        JOIN users u ON u.id = s.user_id
       LIMIT 1`;
    if (!row) return { facts: { found: 'none', ended: false, expired: false } };
    const session = await this.prisma.session.findUniqueOrThrow({ where: { id: row.sessionId }, include: { user: true } });
    const found = row.presentedGeneration === null ? 'current' : 'rotated';
    return {
      session,
      facts: {
        found,
        ended: row.ended,
        expired: row.expired,
        presentedGeneration: row.presentedGeneration ?? undefined,
        currentGeneration: session.generation,
        sinceRotationMs: row.sinceRotationMs,
      },
    };
  }

  /** The session whose current or rotated-away refresh token hashes to `hash` (RFC 7009 revoke). */
  async findByRefreshHash(hash: string): Promise<Pick<Session, 'id' | 'userId'> | null> {
    const [row] = await this.prisma.$queryRaw<Pick<Session, 'id' | 'userId'>[]>`
      SELECT s.id, s.user_id AS "userId" FROM sessions s
       WHERE s.refresh_token_hash = ${hash}
          OR s.id = (SELECT session_id FROM rotated_refresh_tokens WHERE token_hash = ${hash})
       LIMIT 1`;
    return row ?? null;
  }

  /** Ends the sessions matching `filter` that have not ended yet; returns them. */
  end(tx: Tx, filter: SessionFilter, reason: SessionEndReason): Promise<{ id: string; userId: string }[]> {
    const conditions = [Prisma.sql`s.revoked_at IS NULL`];
    if (filter.id !== undefined) conditions.push(Prisma.sql`s.id = ${filter.id}::uuid`);
    if (filter.userId !== undefined) conditions.push(Prisma.sql`s.user_id = ${filter.userId}::uuid`);
    if (filter.exceptId !== undefined) conditions.push(Prisma.sql`s.id <> ${filter.exceptId}::uuid`);
    if (filter.activeOnly) conditions.push(ACTIVE);
    return tx.$queryRaw`
      UPDATE sessions s SET revoked_at = now(), revoked_reason = ${reason}::"SessionEndReason"
       WHERE ${Prisma.join(conditions, ' AND ')}
      RETURNING s.id, s.user_id AS "userId"`;
  }

  /** A user's active sessions, newest first. */
  listActive(userId: string): Promise<SessionView[]> {
    return this.prisma.$queryRaw`
      SELECT s.id, s.created_at AS "createdAt", s.last_used_at AS "lastUsedAt", s.idle_expires_at AS "idleExpiresAt",
             s.absolute_expires_at AS "absoluteExpiresAt", s.user_agent AS "userAgent", s.ip
        FROM sessions s
       WHERE s.user_id = ${userId}::uuid AND ${ACTIVE}
       ORDER BY s.created_at DESC, s.id DESC`;
  }

  /** The facts an access token of session `sessionId` is checked against, read now. */
  async authority(sessionId: string): Promise<SessionAuthority | null> {
    const [row] = await this.prisma.$queryRaw<SessionAuthority[]>`
      SELECT s.user_id AS "userId", (s.revoked_at IS NOT NULL OR u.disabled) AS ended,
             u.refresh_token_version AS "refreshTokenVersion", u.role::text AS role
        FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = ${sessionId}::uuid`;
    return row ?? null;
  }

  /**
   * Deletes, in batches, sessions that can no longer matter: never ended but expired, and
   * ended ones after `retentionDays` (their rotated hashes go with them, ON DELETE
   * CASCADE). Both conditions only ever become true, so a batch's rows cannot come back.
   */
  deleteFinished(retentionDays: number): Promise<number> {
    return deleteInBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM sessions WHERE id IN (
          SELECT s.id FROM sessions s
           WHERE (s.revoked_at IS NULL AND NOT ${ACTIVE}) OR s.revoked_at <= now() - make_interval(days => ${retentionDays})
           LIMIT ${DELETE_BATCH_SIZE})`,
    );
  }

  /**
   * POST /auth/reauthenticate: the session's `auth_time` becomes now and its amr/acr what
   * the re-authentication proved, so every later refresh carries them. Only an active
   * session of an enabled user whose token version is still `tokenVersion`: a logout (or
   * logout-all, disabling) committed first leaves nothing to update, and one waiting on
   * this row lock ends the session after; either way an ended session is never renewed.
   */
  async reauthenticate(
    tx: Tx,
    caller: { sessionId: string; userId: string; tokenVersion: number },
    facts: { amr: string[]; acr: string },
  ): Promise<{ authTime: Date; role: User['role'] } | null> {
    const rows = await tx.$queryRaw<Array<{ authTime: Date; role: User['role'] }>>`
      UPDATE sessions s SET auth_time = now(), amr = ${facts.amr}::text[], acr = ${facts.acr}
      FROM users u
      WHERE s.id = ${caller.sessionId}::uuid AND s.user_id = ${caller.userId}::uuid AND u.id = s.user_id
        AND NOT u.disabled AND u.refresh_token_version = ${caller.tokenVersion} AND ${ACTIVE}
      RETURNING s.auth_time AS "authTime", u.role::text AS role`;
    return rows[0] ?? null;
  }
}
