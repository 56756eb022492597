import { Injectable, NotFoundException } from '@nestjs/common';
import type { ClientMeta } from '../../common/client-meta';
import type { SessionEndReason } from '../../generated/prisma/client';
import type { AuthUser } from '../auth-user';
import { SessionEndingService } from '../sessions/session-ending.service';
import { SessionsRepository } from '../sessions/sessions.repository';
import { DeviceDto, MyDeviceDto, SESSION_NOT_FOUND } from './device.dto';

export interface EndDeviceRequest {
  /** When set, only a session of this user may be ended (DELETE /auth/sessions/:id). */
  ownerId?: string;
  /** Who ends it: the owner, or an admin. */
  actorId: string;
  reason: Extract<SessionEndReason, 'SESSION_DELETED' | 'ADMIN_REVOKED'>;
  client: ClientMeta;
}

/**
 * Sessions as people see and end them, "devices": the caller's own (/auth/sessions) and
 * a user's for an admin. The lifecycle behind them is in sessions/.
 */
@Injectable()
export class DevicesService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly endings: SessionEndingService,
  ) {}

  /** The user's active sessions, newest first. */
  async list(userId: string): Promise<DeviceDto[]> {
    return (await this.sessions.listActive(userId)).map((row) => DeviceDto.from(row));
  }

  async listMine(me: AuthUser): Promise<MyDeviceDto[]> {
    return (await this.list(me.id)).map((device) => ({ ...device, current: device.id === me.sessionId }));
  }

  /**
   * Ends one active session, its access tokens at once. 404 when there is no active
   * session with this id — or, with `ownerId`, none of that user's: someone else's
   * session gets the very answer of an unknown id.
   */
  async end(sessionId: string, { ownerId, ...how }: EndDeviceRequest): Promise<void> {
    const ended = await this.endings.endOne({ id: sessionId, userId: ownerId, activeOnly: true }, how);
    if (!ended) throw new NotFoundException(SESSION_NOT_FOUND);
  }
}
