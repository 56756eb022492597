import { ConflictException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { OutboxRepository } from '../../outbox/outbox.repository';
import { UsersRepository } from '../../users/users.repository';
import { UsersService } from '../../users/users.service';
import type { AuthUser } from '../auth-user';
import { USER_NOT_FOUND } from '../recovery/recovery.service';
import { RevocationService } from '../revocation/revocation.service';
import { SessionEndingService } from '../sessions/session-ending.service';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    'user.deleted': true;
  }
}

export const LAST_ADMIN = 'The last admin cannot be deleted: make another admin first';
const MAIL_CANCELLED = 'Not sent: the account was deleted';

/**
 * DELETE /auth/me and DELETE /admin/users/:id (API.md, "Account lifecycle"), one revocation
 * transaction:
 * 1. the account's row locked (and, for an admin, the other admins': the last one stays);
 * 2. refreshTokenVersion + 1, declared as USER_TOKENS_REVOKED, and every session ended: every
 *    instance refuses its access tokens from the next request, the relying services on their
 *    feed (or introspection), and clients with a back-channel logout URI are told;
 * 3. its pending mails cancelled (they would reach a person the server no longer knows);
 * 4. the `user.deleted` audit event (its id, never the address; webhooks get it in the same
 *    transaction), and the address removed from the account's past events;
 * 5. the row deleted: sessions, rotated refresh tokens, link tokens, second factors, pending
 *    sign-ins, passkeys and linked identities go with it (ON DELETE CASCADE).
 * All or nothing: a failure anywhere leaves the account as it was.
 */
@Injectable()
export class AccountDeletionService {
  constructor(
    private readonly users: UsersRepository,
    private readonly profiles: UsersService,
    private readonly revocation: RevocationService,
    private readonly endings: SessionEndingService,
    private readonly outbox: OutboxRepository,
    private readonly audit: AuditService,
  ) {}

  /** DELETE /auth/me (recent authentication). 409 for the last admin. */
  async deleteOwn(me: AuthUser, client: ClientMeta): Promise<void> {
    const deleted = await this.delete(me.id, { actorId: me.id, sessionId: me.sessionId, by: 'self' }, client);
    // Gone meanwhile (a concurrent deletion): its token no longer names an account.
    if (!deleted) throw new UnauthorizedException();
  }

  /** DELETE /admin/users/:id. 404, 409 for the last admin. */
  async deleteByAdmin(admin: AuthUser, userId: string, client: ClientMeta): Promise<void> {
    if (!(await this.delete(userId, { actorId: admin.id, sessionId: null, by: 'admin' }, client))) {
      throw new NotFoundException(USER_NOT_FOUND);
    }
  }

  /** `sessionId`: the deleted account's session that asked (self-deletion); an admin's is not the account's, so none. */
  private async delete(userId: string, actor: { actorId: string; sessionId: string | null; by: 'self' | 'admin' }, client: ClientMeta): Promise<boolean> {
    const deleted = await this.revocation.transaction(async (tx, revoke) => {
      const found = await this.users.lockForDeletion(tx, userId);
      if (!found) return false;
      if (found.user.role === 'ADMIN' && found.otherAdmins === 0) throw new ConflictException(LAST_ADMIN);
      const sessionsEnded = await this.endings.endAllOfUser(tx, revoke, userId, 'ACCOUNT_DELETED');
      const mailsCancelled = await this.outbox.cancelMailsOf(tx, userId, found.user.email, MAIL_CANCELLED);
      await this.audit.record(tx, {
        type: 'user.deleted',
        userId,
        actorId: actor.actorId,
        sessionId: actor.sessionId,
        client,
        data: { by: actor.by, sessionsEnded, mailsCancelled },
      });
      await this.audit.forgetEmailOf(tx, userId, found.user.email);
      await this.profiles.changed(tx, userId);
      await this.users.delete(tx, userId);
      return true;
    });
    if (deleted) this.profiles.forget(userId);
    return deleted;
  }
}
