import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../auth/auth-user';
import { RevocationService } from '../auth/revocation/revocation.service';
import { SessionEndingService } from '../auth/sessions/session-ending.service';
import type { ClientMeta } from '../common/client-meta';
import { UserDto } from '../users/user.dto';
import { UsersRepository } from '../users/users.repository';
import { USER_NOT_FOUND } from './admin-users.service';
import type { UpdateUserDto } from './dto/users.dto';
import type { Tx } from '../database/tx';

export const EMPTY_UPDATE = 'body must set role or disabled';
/** An admin cannot lock themselves out, so the last admin cannot leave the system without one. */
export const SELF_LOCKOUT = 'Admins cannot demote or disable themselves';

/**
 * What admins change about a user's access: force-logout, role, disabled. Each change,
 * the revocation it declares and its audit event commit in one transaction: the user's
 * access tokens are refused (or carry the new role) from the next request on.
 */
@Injectable()
export class UserAccessService {
  constructor(
    private readonly revocation: RevocationService,
    private readonly users: UsersRepository,
    private readonly endings: SessionEndingService,
    private readonly audit: AuditService,
  ) {}

  /** The same effect as the user's own logout-all. */
  async forceLogout(admin: AuthUser, userId: string, client: ClientMeta): Promise<void> {
    await this.revocation.transaction(async (tx, revoke) => {
      await this.lock(tx, userId);
      const sessionsEnded = await this.endings.endAllOfUser(tx, revoke, userId, 'FORCE_LOGOUT');
      await this.audit.record(tx, { type: 'user.force_logged_out', userId, actorId: admin.id, client, data: { sessionsEnded } });
    });
  }

  async update(admin: AuthUser, userId: string, { role, disabled }: UpdateUserDto, client: ClientMeta): Promise<UserDto> {
    if (role === undefined && disabled === undefined) throw new BadRequestException([EMPTY_UPDATE]);
    if (userId === admin.id && (role === 'USER' || disabled === true)) throw new BadRequestException([SELF_LOCKOUT]);
    return this.revocation.transaction(async (tx, revoke) => {
      // Under the row lock, concurrent changes to one user run one after the other, so each audits the true "from".
      const before = await this.lock(tx, userId);
      const user = await this.users.setAccess(tx, userId, { role, disabled });
      const audit = { userId, actorId: admin.id, client };
      if (role !== undefined && role !== before.role) {
        revoke({ kind: 'ROLE_CHANGED', userId, role });
        await this.audit.record(tx, { ...audit, type: 'user.role_changed', data: { from: before.role, to: role } });
      }
      if (disabled === true && !before.disabled) {
        const sessionsEnded = await this.endings.endAllOfUser(tx, revoke, userId, 'USER_DISABLED');
        await this.audit.record(tx, { ...audit, type: 'user.disabled', data: { sessionsEnded } });
      }
      if (disabled === false && before.disabled) await this.audit.record(tx, { ...audit, type: 'user.enabled' });
      return UserDto.from(user);
    });
  }

  /** 404 (and a rollback) when there is no such user. */
  private async lock(tx: Tx, userId: string) {
    const user = await this.users.lockAccess(tx, userId);
    if (!user) throw new NotFoundException(USER_NOT_FOUND);
    return user;
  }
}
