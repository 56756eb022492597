import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import { PrismaService } from '../../database/prisma.service';
import { MailService } from '../../mail/mail.service';
import { isEmailTaken, UsersRepository } from '../../users/users.repository';
import type { AuthUser } from '../auth-user';
import { AuthService, type TokenGrant } from '../auth.service';
import { PasswordService } from '../passwords/password.service';
import { hashLinkToken, newLinkToken } from '../recovery/account-tokens.repository';
import { RecoveryService } from '../recovery/recovery.service';
import { SessionRotationService } from '../sessions/session-rotation.service';
import { PASSWORD_FACTS } from '../sign-in/password/password.method';
import { InvitationsRepository } from './invitations.repository';
import type { AcceptInvitationDto, InvitationDto, InviteDto, PendingInvitationDto } from './lifecycle.dto';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    'user.invited': true;
    'invitation.revoked': true;
  }
}

export const ACCOUNT_EXISTS = 'An account with this address exists already';
export const INVALID_INVITATION = 'This invitation is invalid, used, revoked or expired; ask for a new one';
export const INVITATION_NOT_FOUND = 'Invitation not found';

/**
 * Invitations (API.md, "Account lifecycle"): an admin invites an address with a role; the
 * link (APP_URL/accept-invite#token=…, INVITATION_TTL) makes the account with that role,
 * its address verified by the link itself, whatever REGISTRATION_ENABLED says (the admin
 * decided), and opens its first session as a registration does.
 */
@Injectable()
export class InvitationsService {
  private readonly ttlSeconds: number;

  constructor(
    private readonly prisma: PrismaService,
    private readonly invitations: InvitationsRepository,
    private readonly users: UsersRepository,
    private readonly passwords: PasswordService,
    private readonly recovery: RecoveryService,
    private readonly rotation: SessionRotationService,
    private readonly auth: AuthService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlSeconds = config.get('recovery.invitationTtl', { infer: true });
  }

  /** POST /admin/invitations: a new invitation of the address (replacing an earlier one) and its mail. 409 when an account holds it; 503 when mail is off. */
  async invite(admin: AuthUser, { email, role = 'USER' }: InviteDto, client: ClientMeta): Promise<InvitationDto> {
    this.mail.assertEnabled();
    const token = newLinkToken();
    const expiresAt = new Date(Date.now() + this.ttlSeconds * 1000);
    return this.prisma.$transaction(async (tx) => {
      if (await this.users.emailTaken(tx, email)) throw new ConflictException(ACCOUNT_EXISTS);
      const invitation = await this.invitations.replace(tx, { email, role, tokenHash: hashLinkToken(token), invitedBy: admin.id, expiresAt });
      await this.mail.enqueue(tx, { template: 'invitation', to: email, userId: null, token, expiresAt, ttlSeconds: this.ttlSeconds });
      // The address is the invitation's subject (there is no account yet); a deletion of the account it becomes removes it.
      const data = { invitationId: invitation.id, email, role };
      await this.audit.record(tx, { type: 'user.invited', actorId: admin.id, sessionId: admin.sessionId, client, data });
      return { id: invitation.id, email: invitation.email, role: invitation.role, expiresAt: invitation.expiresAt };
    });
  }

  list(): Promise<PendingInvitationDto[]> {
    return this.invitations.pending();
  }

  /** DELETE /admin/invitations/:id: its link stops working. 404 when there is none (used, revoked, or cleaned up after expiring). */
  async revoke(admin: AuthUser, id: string, client: ClientMeta): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const revoked = await this.invitations.revoke(tx, id);
      if (!revoked) throw new NotFoundException(INVITATION_NOT_FOUND);
      await this.audit.record(tx, { type: 'invitation.revoked', actorId: admin.id, sessionId: admin.sessionId, client, data: { invitationId: id } });
    });
  }

  /**
   * POST /auth/invitations/accept: the account (invited role, verified) and its first
   * session in one transaction that uses up the invitation. Any failure is a 400: an
   * unknown, used, revoked or expired link (one message), or an account made meanwhile
   * under the address.
   */
  async accept(dto: AcceptInvitationDto, client: ClientMeta): Promise<TokenGrant> {
    const tokenHash = this.recovery.hashOf(dto.token);
    // Refused before the argon2 work when the link is already known to be bad.
    if (!(await this.invitations.isValid(tokenHash))) throw new BadRequestException(INVALID_INVITATION);
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      const grant = await this.prisma.$transaction(async (tx) => {
        const invitation = await this.invitations.consume(tx, tokenHash);
        if (!invitation) throw new BadRequestException(INVALID_INVITATION);
        if (await this.users.emailTaken(tx, invitation.email)) throw new BadRequestException(ACCOUNT_EXISTS);
        const user = await this.users.create(tx, { email: invitation.email, passwordHash, name: dto.name ?? null, role: invitation.role, emailVerified: true });
        // The password just chosen is the proof, as at registration.
        const opened = await this.rotation.open(tx, user, client, PASSWORD_FACTS);
        await this.audit.record(tx, {
          type: 'user.registered',
          userId: user.id,
          actorId: invitation.invitedBy,
          sessionId: opened.session.id,
          client,
          data: { invitationId: invitation.id, role: invitation.role },
        });
        return opened;
      });
      return this.auth.respond(grant);
    } catch (error) {
      if (isEmailTaken(error)) throw new BadRequestException(ACCOUNT_EXISTS);
      throw error;
    }
  }
}
