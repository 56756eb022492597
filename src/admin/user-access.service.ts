import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../auth/auth-user';
import { RevocationService } from '../auth/revocation/revocation.service';
import { SessionService } from '../auth/sessions/session.service';
import type { ClientMeta } from '../common/client-meta';
import type { Prisma, Role } from '../generated/prisma/client';
import { UserDto } from '../users/user.dto';
import { USER_NOT_FOUND } from './admin-users.service';
import type { UpdateUserDto } from './dto/users.dto';

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
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
  ) {}

  /** The same effect as the user's own logout-all. */
  async forceLogout(admin: AuthUser, userId: string, client: ClientMeta): Promise<void> {
    await this.revocation.transaction(async (tx, revoke) => {
      await lockUser(tx, userId);
      const ended = await this.sessions.endAllOfUser(tx, revoke, userId, 'FORCE_LOGOUT');
      await this.audit.record(
        { type: 'user.force_logged_out', userId, actorId: admin.id, client, data: { sessionsEnded: ended } },
        tx,
      );
    });
  }

  async update(admin: AuthUser, userId: string, { role, disabled }: UpdateUserDto, client: ClientMeta): Promise<UserDto> {
    if (role === undefined && disabled === undefined) throw new BadRequestException([EMPTY_UPDATE]);
    if (userId === admin.id && (role === 'USER' || disabled === true)) throw new BadRequestException([SELF_LOCKOUT]);
    return this.revocation.transaction(async (tx, revoke) => {
      const before = await lockUser(tx, userId);
      const user = await tx.user.update({ where: { id: userId }, data: { role, disabled } });
      const audit = { userId, actorId: admin.id, client };
      if (role !== undefined && role !== before.role) {
        revoke({ kind: 'ROLE_CHANGED', userId, role });
        await this.audit.record({ ...audit, type: 'user.role_changed', data: { from: before.role, to: role } }, tx);
      }
      if (disabled === true && !before.disabled) {
        const ended = await this.sessions.endAllOfUser(tx, revoke, userId, 'USER_DISABLED');
        await this.audit.record({ ...audit, type: 'user.disabled', data: { sessionsEnded: ended } }, tx);
      }
      if (disabled === false && before.disabled) await this.audit.record({ ...audit, type: 'user.enabled' }, tx);
      return UserDto.from(user);
    });
  }
}

/**
 * Reads the user's role and flag under a row lock held to the end of the transaction:
 * concurrent changes to one user run one after the other, so each audits the true
 * "from". 404 (and a rollback) when there is no such user.
 */
async function lockUser(tx: Prisma.TransactionClient, userId: string): Promise<{ role: Role; disabled: boolean }> {
  const [user] = await tx.$queryRaw<{ role: Role; disabled: boolean }[]>`
    SELECT role::text AS role, disabled FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
  if (!user) throw new NotFoundException(USER_NOT_FOUND);
  return user;
}
