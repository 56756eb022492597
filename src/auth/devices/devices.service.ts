import { Injectable, NotFoundException } from '@nestjs/common';
import type { ClientMeta } from '../../common/client-meta';
import { PrismaService } from '../../database/prisma.service';
import type { SessionEndReason } from '../../generated/prisma/client';
import type { AuthUser } from '../auth-user';
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
    private readonly sessions: SessionService,
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
  async end(sessionId: string, { ownerId, ...how }: EndSessionRequest): Promise<void> {
    const where = { id: sessionId, ...(ownerId !== undefined && { userId: ownerId }), ...activeSessionWhere() };
    if (!(await this.sessions.endOne(where, how))) throw new NotFoundException(SESSION_NOT_FOUND);
  }
}
