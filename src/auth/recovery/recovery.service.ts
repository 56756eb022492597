import { BadRequestException, BeforeApplicationShutdown, ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import { EventBus } from '../../events/event-bus';
import type { ClientMeta } from '../../common/client-meta';
import { describeError } from '../../common/http-exception.filter';
import type { AppConfig } from '../../config/configuration';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import type { User } from '../../generated/prisma/client';
import { MailService } from '../../mail/mail.service';
import { UsersRepository } from '../../users/users.repository';
import { UsersService } from '../../users/users.service';
import { PasswordService } from '../passwords/password.service';
import { RevocationService } from '../revocation/revocation.service';
import { SessionEndingService } from '../sessions/session-ending.service';
import { AccountTokensRepository, hashLinkToken, LINK_TOKEN_PATTERN, newLinkToken } from './account-tokens.repository';

/** The one answer for a link that cannot be used: unknown, malformed, used, superseded or expired. */
export const INVALID_LINK = 'This link is invalid or has expired; ask for a new one';
export const USER_NOT_FOUND = 'User not found';
/** An admin's reset of a disabled account: its link would be refused. */
export const ACCOUNT_DISABLED = 'The account is disabled: enable it before sending a reset link';

/**
 * Account recovery and email verification (API.md, "Account recovery and email"): the
 * flows behind /auth/password/forgot and /reset, /auth/email/verify and /resend, and the
 * verification mail of a registration. Mails are outbox rows written in the transaction
 * that issues their token (MailService.enqueue).
 */
@Injectable()
export class RecoveryService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RecoveryService.name);
  private readonly config: AppConfig['recovery'];
  /** Mail requests being handled after their 202 was sent (see `afterAnswer`). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly users: UsersRepository,
    private readonly profiles: UsersService,
    private readonly tokens: AccountTokensRepository,
    private readonly passwords: PasswordService,
    private readonly revocation: RevocationService,
    private readonly endings: SessionEndingService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
    config: ConfigService<AppConfig, true>,
    private readonly bus: EventBus,
  ) {
    this.config = config.get('recovery', { infer: true });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * POST /auth/password/forgot. Answers before it looks the email up: the 202 leaves after
   * the same work (validation, the rate limits) whether the account exists or not, so
   * neither the status, the body nor the time tells. The lookup, the token and its mail
   * (one transaction) follow, once `answered` (the response has been sent).
   */
  requestPasswordReset(email: string, client: ClientMeta, answered: Promise<void>): void {
    this.mail.assertEnabled();
    this.afterAnswer(answered, async () => {
      const user = await this.users.findByEmail(email);
      if (!user || user.disabled) return;
      await this.prisma.$transaction(async (tx) => {
        await this.issue(tx, user, 'password-reset');
        await this.audit.record(tx, { type: 'password.reset_requested', userId: user.id, client });
      });
    });
  }

  /**
   * POST /auth/password/reset. The new password, refreshTokenVersion + 1 and every session
   * ended (on every instance, at once: the same path as logout-all), every other reset link
   * voided, in one transaction. Following the link proved the mailbox: the address counts
   * as verified from now on.
   */
  async resetPassword(token: string, newPassword: string, client: ClientMeta): Promise<void> {
    const tokenHash = this.hashOf(token);
    // Refused before the argon2 work when the link is already known to be bad.
    if (!(await this.tokens.holder('PASSWORD_RESET', tokenHash))) throw new BadRequestException(INVALID_LINK);
    const passwordHash = await this.passwords.hash(newPassword);
    const userId = await this.revocation.transaction(async (tx, revoke) => {
      const userId = await this.tokens.consume(tx, 'PASSWORD_RESET', tokenHash);
      // Used meanwhile by a concurrent request, or expired since.
      if (!userId) throw new BadRequestException(INVALID_LINK);
      const user = await this.users.findById(tx, userId);
      if (!user || user.disabled) throw new BadRequestException(INVALID_LINK);
      await this.users.resetPassword(tx, userId, passwordHash);
      await this.tokens.voidAll(tx, userId, 'PASSWORD_RESET');
      await this.tokens.voidAll(tx, userId, 'EMAIL_VERIFICATION'); // verified by this very link
      const sessionsEnded = await this.endings.endAllOfUser(tx, revoke, userId, 'PASSWORD_RESET');
      await this.audit.record(tx, { type: 'password.reset', userId, actorId: userId, client, data: { sessionsEnded } });
      await this.bus.emitInTransaction(tx, 'password.reset-by-mail', { userId, emailWasVerified: user.emailVerified });
      return userId;
    });
    this.profiles.forget(userId);
  }

  /** POST /auth/email/verify. */
  async verifyEmail(token: string, client: ClientMeta): Promise<void> {
    const tokenHash = this.hashOf(token);
    const userId = await this.prisma.$transaction(async (tx) => {
      const userId = await this.tokens.consume(tx, 'EMAIL_VERIFICATION', tokenHash);
      if (!userId) throw new BadRequestException(INVALID_LINK);
      await this.users.markEmailVerified(tx, userId);
      await this.audit.record(tx, { type: 'email.verified', userId, actorId: userId, client });
      return userId;
    });
    this.profiles.forget(userId);
  }

  /** POST /auth/email/verify/resend: a new link (the older ones voided) for an unverified account; silent otherwise. */
  resendVerification(email: string, answered: Promise<void>): void {
    this.mail.assertEnabled();
    this.afterAnswer(answered, async () => {
      const user = await this.users.findByEmail(email);
      if (!user || user.disabled || user.emailVerified) return;
      await this.prisma.$transaction((tx) => this.issue(tx, user, 'email-verification'));
    });
  }

  /**
   * POST /admin/users/:id/password-reset: the same link and mail as forgot (older reset
   * links voided); nothing else changes until the user follows it. 503 when mail is off,
   * 404 for no such user, 409 for a disabled one (its link would be refused).
   */
  async adminReset(actorId: string, userId: string, client: ClientMeta): Promise<void> {
    this.mail.assertEnabled();
    await this.prisma.$transaction(async (tx) => {
      const user = await this.users.findById(tx, userId);
      if (!user) throw new NotFoundException(USER_NOT_FOUND);
      if (user.disabled) throw new ConflictException(ACCOUNT_DISABLED);
      await this.issue(tx, user, 'password-reset');
      await this.audit.record(tx, { type: 'password.reset_requested', userId, actorId, client, data: { by: 'admin' } });
    });
  }

  /**
   * POST /auth/email/change, in `tx`: a link to `newEmail` (older change links voided) that
   * moves the account there, remembering the session that asked (it outlives the change).
   */
  async issueEmailChange(tx: Tx, user: User, newEmail: string, sessionId: string): Promise<void> {
    const ttlSeconds = this.config.emailVerificationTtl;
    const token = newLinkToken();
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    await this.tokens.issue(tx, { userId: user.id, purpose: 'EMAIL_CHANGE', tokenHash: hashLinkToken(token), expiresAt, newEmail, sessionId });
    await this.mail.enqueue(tx, { template: 'email-change', to: newEmail, userId: user.id, token, expiresAt, ttlSeconds });
  }

  /** At registration, in its transaction: the verification mail (when mail is on). */
  async issueVerification(tx: Tx, user: User): Promise<void> {
    if (this.mail.enabled && !user.emailVerified) await this.issue(tx, user, 'email-verification');
  }

  /** A new link token (older ones of the same purpose voided) and its mail, in `tx`. */
  private async issue(tx: Tx, user: User, template: 'password-reset' | 'email-verification'): Promise<void> {
    const reset = template === 'password-reset';
    const ttlSeconds = reset ? this.config.passwordResetTtl : this.config.emailVerificationTtl;
    const token = newLinkToken();
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    await this.tokens.issue(tx, { userId: user.id, purpose: reset ? 'PASSWORD_RESET' : 'EMAIL_VERIFICATION', tokenHash: hashLinkToken(token), expiresAt });
    await this.mail.enqueue(tx, { template, to: user.email, userId: user.id, token, expiresAt, ttlSeconds });
  }

  /** A link token's hash; the one 400 for a malformed token (never looked up). */
  hashOf(token: string): string {
    if (!LINK_TOKEN_PATTERN.test(token)) throw new BadRequestException(INVALID_LINK);
    return hashLinkToken(token);
  }

  /**
   * Runs `work` once the response has been sent: its duration (a lookup, a transaction or
   * none) never shows in the response time, even on PGlite, whose queries hold the event
   * loop. A shutdown waits for it; a failure is logged (without its message: a Prisma error
   * echoes the query's values, here an email address).
   */
  private afterAnswer(answered: Promise<void>, work: () => Promise<void>): void {
    const running: Promise<void> = answered
      .then(work)
      .catch((error) => this.logger.error({ err: describeError(error) }, 'A mail request failed after its 202'))
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }
}
