import { BadRequestException, ConflictException, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { PrismaService } from '../../database/prisma.service';
import { MailService } from '../../mail/mail.service';
import { isEmailTaken, UsersRepository } from '../../users/users.repository';
import { UsersService } from '../../users/users.service';
import type { AuthUser } from '../auth-user';
import { EMAIL_TAKEN } from '../auth.service';
import { AccountTokensRepository } from '../recovery/account-tokens.repository';
import { INVALID_LINK, RecoveryService } from '../recovery/recovery.service';
import { RevocationService } from '../revocation/revocation.service';
import { SessionEndingService } from '../sessions/session-ending.service';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    'email.change_requested': true;
    'email.changed': true;
  }
}

export const SAME_EMAIL = 'newEmail is already the address of this account';
/** At confirmation: another account took the address after the link was sent. */
export const EMAIL_TAKEN_MEANWHILE = 'This address now belongs to another account: ask for the change again with another address';

/**
 * POST /auth/email/change and /confirm (API.md, "Account lifecycle"). The request mails a
 * link to the new address (the recovery links' machinery: single use, hashed, expiring,
 * EMAIL_VERIFICATION_TTL) and a notice to the current one, so that a taken-over session
 * cannot move the account away silently. Following the link moves the account, marks the
 * address verified and ends every other session, everywhere, in one revocation transaction.
 */
@Injectable()
export class EmailChangeService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly users: UsersRepository,
    private readonly profiles: UsersService,
    private readonly recovery: RecoveryService,
    private readonly tokens: AccountTokensRepository,
    private readonly revocation: RevocationService,
    private readonly endings: SessionEndingService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
  ) {}

  /** `newEmail` arrives normalised (EmailField). 409 when an account holds it; 503 when mail is off. */
  async request(me: AuthUser, newEmail: string, client: ClientMeta): Promise<void> {
    this.mail.assertEnabled();
    await this.prisma.$transaction(async (tx) => {
      const user = await this.users.findById(tx, me.id);
      if (!user) throw new UnauthorizedException();
      if (user.email === newEmail) throw new BadRequestException([SAME_EMAIL]);
      if (await this.users.emailTaken(tx, newEmail)) throw new ConflictException(EMAIL_TAKEN);
      await this.recovery.issueEmailChange(tx, user, newEmail, me.sessionId);
      await this.mail.notify(
        tx,
        user.email,
        `Someone signed in to your account asked to change its email address to ${newEmail}. ` +
          'Nothing changes unless the link sent to that address is opened; if it was not you, change your password and sign out everywhere.',
        user.id,
      );
      await this.audit.record(tx, { type: 'email.change_requested', userId: me.id, actorId: me.id, sessionId: me.sessionId, client });
    });
  }

  /**
   * The link's token: the account moves to the address, verified, and every session but
   * the one that asked ends (their access tokens refused at once on every instance). The
   * other links of the account (reset, verification, change) were mailed to the old
   * address or for it: voided. An address taken since the link was sent is refused (400,
   * the one status of this route), the link left as it was.
   */
  async confirm(token: string, client: ClientMeta): Promise<void> {
    const tokenHash = this.recovery.hashOf(token);
    try {
      const userId = await this.revocation.transaction(async (tx, revoke) => {
        const change = await this.tokens.consumeEmailChange(tx, tokenHash);
        if (!change) throw new BadRequestException(INVALID_LINK);
        const user = await this.users.lockAccess(tx, change.userId);
        if (!user || user.disabled) throw new BadRequestException(INVALID_LINK);
        if (await this.users.emailTaken(tx, change.newEmail)) throw new BadRequestException(EMAIL_TAKEN_MEANWHILE);
        await this.users.changeEmail(tx, change.userId, change.newEmail);
        for (const purpose of ['EMAIL_CHANGE', 'EMAIL_VERIFICATION', 'PASSWORD_RESET'] as const) await this.tokens.voidAll(tx, change.userId, purpose);
        const filter = change.sessionId ? { userId: change.userId, exceptId: change.sessionId } : { userId: change.userId };
        const ended = await this.endings.endMany(tx, revoke, filter, 'EMAIL_CHANGED');
        await this.profiles.changed(tx, change.userId);
        await this.audit.record(tx, {
          type: 'email.changed',
          userId: change.userId,
          actorId: change.userId,
          sessionId: change.sessionId,
          client,
          data: { otherSessionsEnded: ended.length },
        });
        return change.userId;
      });
      this.profiles.forget(userId);
    } catch (error) {
      // Taken between the check and the UPDATE (the unique index decides).
      if (isEmailTaken(error)) throw new BadRequestException(EMAIL_TAKEN_MEANWHILE);
      throw error;
    }
  }
}
