import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../../audit/audit.service';
import type { ClientMeta } from '../../../common/client-meta';
import type { AppConfig } from '../../../config/configuration';
import type { Tx } from '../../../database/tx';
import { MetricsService } from '../../../metrics/metrics.service';
import { normalizeEmail } from '../../../users/email';
import { UsersRepository } from '../../../users/users.repository';
import { PasswordService } from '../../passwords/password.service';
import type { SessionFacts } from '../../sessions/session-rotation.service';
import { credentialStamp, LOGIN_FAILED, type SignInFacts } from '../sign-in-facts';
import { ProvidesSignInMethod, type SignInMethod } from '../sign-in-method';

/** REQUIRE_VERIFIED_EMAIL: said only once the password was right (a wrong one stays LOGIN_FAILED). */
export const EMAIL_NOT_VERIFIED = 'Email address is not verified';

/** What a password proves (RFC 8176 `pwd`, one factor): also a registration's first session. */
export const PASSWORD_FACTS: SessionFacts = { amr: ['pwd'], acr: 'aal1' };

/** The password, a first factor (POST /auth/login through LocalStrategy): never a further step. */
@ProvidesSignInMethod()
@Injectable()
export class PasswordMethod implements SignInMethod {
  readonly name = 'password';
  private readonly requireVerifiedEmail: boolean;

  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.requireVerifiedEmail = config.get('recovery.requireVerifiedEmail', { infer: true });
  }

  /** An account made at another provider has no password until a reset link sets one. */
  async signsInAlone(tx: Tx, userId: string): Promise<boolean> {
    return (await this.users.findById(tx, userId))?.passwordHash != null;
  }

  /**
   * Checks a login. Always spends one argon2 verification, against a dummy hash when the
   * email is unknown, and answers the same for every failure, so neither the status, the
   * body nor the time tells which check failed.
   */
  async prove(email: string, password: string, client: ClientMeta): Promise<SignInFacts> {
    const user = await this.users.findByEmail(email);
    // An account without a password (made at another provider) is checked against the dummy
    // hash like an unknown email: the same time, and never a match.
    const passwordOk = await this.passwords.verify(user?.passwordHash ?? undefined, password);
    if (user && passwordOk && !user.disabled && this.requireVerifiedEmail && !user.emailVerified) {
      this.metrics.login('failed');
      await this.audit.recordAlone({ type: 'login.failed', userId: user.id, client, data: { email: user.email, reason: 'email_not_verified' } });
      throw new ForbiddenException(EMAIL_NOT_VERIFIED);
    }
    // Success is counted when the sign-in completes (AuthService): a password that asks for a second step is not one yet.
    if (user && passwordOk && !user.disabled) {
      return { userId: user.id, ...PASSWORD_FACTS, amr: [...PASSWORD_FACTS.amr], credential: credentialStamp(user) };
    }
    this.metrics.login('failed');
    const reason = !user ? 'unknown_email' : user.passwordHash === null ? 'no_password' : !passwordOk ? 'wrong_password' : 'disabled';
    await this.audit.recordAlone({ type: 'login.failed', userId: user?.id, client, data: { email: normalizeEmail(email), reason } });
    throw new UnauthorizedException(LOGIN_FAILED);
  }

  /**
   * The signed-in user's password again (POST /auth/reauthenticate): the hash it matched,
   * for the caller to see unchanged inside its transaction (a password changed meanwhile
   * is not the one proved), or null for a wrong one.
   */
  async proveAgain(userId: string, password: string): Promise<string | null> {
    const hash = await this.users.passwordHashOf(userId);
    return hash && (await this.passwords.verify(hash, password)) ? hash : null;
  }
}
