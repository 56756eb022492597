import { randomBytes } from 'node:crypto';
import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import type { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import { MailService } from '../../mail/mail.service';
import { UsersRepository } from '../../users/users.repository';
import type { AuthUser } from '../auth-user';
import { type Revoke, RevocationService } from '../revocation/revocation.service';
import { SessionEndingService } from '../sessions/session-ending.service';
import { PasskeyDto } from '../passkeys/passkeys.dto';
import { PasskeysRepository } from '../passkeys/passkeys.repository';
import { hashRecoveryCode, MfaFactorsRepository } from './mfa-factors.repository';
import type { MfaStatusDto, RecoveryCodesDto, TotpEnrollmentDto } from './mfa.dto';
import { newTotpSecret, totpStepOf, totpUri } from './totp';
import { TotpSecrets } from './totp-secrets';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    'mfa.enabled': true;
    'mfa.disabled': true;
    'mfa.recovery_codes_regenerated': true;
    'mfa.recovery_code_used': true;
    'user.mfa_reset': true;
  }
}

export const TOTP_ALREADY_ENABLED = 'TOTP is already enabled: disable it first to enroll again';
export const TOTP_WRONG_CODE = 'Wrong code, or no TOTP enrollment is pending';
export const TOTP_NOT_ENABLED = 'TOTP is not enabled';
export const NO_SECOND_FACTOR = 'Recovery codes need a second factor: enable TOTP first';
export const USER_NOT_FOUND = 'User not found';

const RECOVERY_CODES = 10;

/** A user's own change of their factors: its audit type and data, and the mail that tells them. */
interface FactorChange {
  type: 'mfa.enabled' | 'mfa.disabled' | 'mfa.recovery_codes_regenerated';
  data: Prisma.InputJsonObject;
  notice: string;
}

/**
 * One recovery code: 100 bits from the CSPRNG (20 base32 characters, in four groups for
 * reading aloud). Stored as SHA-256 only: with 100 bits of entropy nobody can search the
 * hash's preimages, so a slow password hash would add cost and nothing else (the same
 * reasoning as refresh tokens).
 */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(20);
  // 20 characters of 5 bits each: the low 5 bits of 20 random bytes are uniform.
  const chars = [...bytes].map((b) => alphabet[b & 31]).join('');
  return chars.match(/.{5}/g)!.join('-');
}

/**
 * /auth/mfa (API.md, "Second factors, step-up and passkeys"): enrolling TOTP, confirming,
 * disabling it, recovery codes, and an admin's reset. Every change that turns protection
 * on or off ends the user's other sessions in the same revocation transaction (their
 * access tokens are refused at once on every instance, their refresh tokens at once),
 * is audited, reaches webhooks (audit types) and mails the user.
 */
@Injectable()
export class MfaService {
  private readonly issuer: string;

  constructor(
    private readonly prisma: PrismaService,
    private readonly factors: MfaFactorsRepository,
    private readonly secrets: TotpSecrets,
    private readonly revocation: RevocationService,
    private readonly endings: SessionEndingService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly users: UsersRepository,
    private readonly passkeys: PasskeysRepository,
    config: ConfigService<AppConfig, true>,
  ) {
    // The name the authenticator app shows above the account: this server's host.
    this.issuer = new URL(config.get('app.url', { infer: true })).host;
  }

  async status(me: AuthUser): Promise<MfaStatusDto> {
    const [{ confirmedAt, remaining }, passkeys] = await Promise.all([this.factors.status(me.id), this.passkeys.listOf(me.id)]);
    return {
      totp: { enabled: confirmedAt !== null, confirmedAt: confirmedAt?.toISOString() ?? null },
      recoveryCodes: { remaining },
      passkeys: passkeys.map((row) => PasskeyDto.from(row)),
    };
  }

  /** A new pending secret (replacing a pending one); 409 once TOTP is on. */
  async startTotp(me: AuthUser): Promise<TotpEnrollmentDto> {
    const secret = newTotpSecret();
    const email = await this.prisma.$transaction(async (tx) => {
      if (!(await this.factors.startTotp(tx, me.id, this.secrets.seal(me.id, secret)))) throw new ConflictException(TOTP_ALREADY_ENABLED);
      return (await this.users.emailOf(tx, me.id)) ?? me.id;
    });
    return { secret, otpauthUri: totpUri(this.issuer, email, secret) };
  }

  /** The first code confirms the pending secret: TOTP is on, recovery codes issued, every other session ends. */
  async confirmTotp(me: AuthUser, code: string, client: ClientMeta): Promise<RecoveryCodesDto> {
    return this.revocation.transaction(async (tx, revoke) => {
      const factor = await this.factors.lockTotp(tx, me.id);
      if (!factor || factor.confirmedAt) throw new BadRequestException(TOTP_WRONG_CODE);
      const step = await totpStepOf(await this.secrets.open(tx, me.id, factor.secretSealed), code);
      if (step === null || !(await this.factors.acceptStep(tx, me.id, step, false))) throw new BadRequestException(TOTP_WRONG_CODE);
      const recoveryCodes = await this.issueCodes(tx, me.id);
      await this.changed(tx, revoke, me, client, {
        type: 'mfa.enabled',
        data: { method: 'totp' },
        notice: 'Two-factor authentication (an authenticator app) was turned on for your account.',
      });
      return { recoveryCodes };
    });
  }

  /** TOTP off (and its recovery codes gone); every other session ends. 404 when it was not on. */
  async disableTotp(me: AuthUser, client: ClientMeta): Promise<void> {
    await this.revocation.transaction(async (tx, revoke) => {
      if (!(await this.factors.lockTotp(tx, me.id))?.confirmedAt) throw new NotFoundException(TOTP_NOT_ENABLED);
      const { codes } = await this.factors.removeAll(tx, me.id);
      await this.changed(tx, revoke, me, client, {
        type: 'mfa.disabled',
        data: { method: 'totp', recoveryCodesRemoved: codes },
        notice: 'Two-factor authentication was turned off for your account.',
      });
    });
  }

  /** A new set of recovery codes; the previous set stops working, every other session ends. 409 without a second factor. */
  async regenerateCodes(me: AuthUser, client: ClientMeta): Promise<RecoveryCodesDto> {
    return this.revocation.transaction(async (tx, revoke) => {
      if (!(await this.factors.lockTotp(tx, me.id))?.confirmedAt) throw new ConflictException(NO_SECOND_FACTOR);
      const recoveryCodes = await this.issueCodes(tx, me.id);
      await this.changed(tx, revoke, me, client, {
        type: 'mfa.recovery_codes_regenerated',
        data: {},
        notice: 'New recovery codes were made for your account; the previous ones no longer work.',
      });
      return { recoveryCodes };
    });
  }

  /** DELETE /admin/users/:id/mfa: every second factor of the user removed, every session ended. */
  async adminReset(admin: AuthUser, userId: string, client: ClientMeta): Promise<void> {
    await this.revocation.transaction(async (tx, revoke) => {
      const email = await this.users.emailOf(tx, userId);
      if (email === null) throw new NotFoundException(USER_NOT_FOUND);
      const { hadTotp, codes } = await this.factors.removeAll(tx, userId);
      const passkeysRemoved = await this.passkeys.removeAll(tx, userId);
      const sessionsEnded = await this.endings.endAllOfUser(tx, revoke, userId, 'MFA_CHANGED');
      await this.audit.record(tx, {
        type: 'user.mfa_reset',
        userId,
        actorId: admin.id,
        sessionId: admin.sessionId,
        client,
        data: { totpRemoved: hadTotp, recoveryCodesRemoved: codes, passkeysRemoved, sessionsEnded },
      });
      await this.mail.notify(tx, email, 'An administrator removed the two-factor authentication of your account; every session of it has ended.');
    });
  }

  private async issueCodes(tx: Tx, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await this.factors.replaceRecoveryCodes(tx, userId, codes.map(hashRecoveryCode));
    return codes;
  }

  /**
   * The tail of a user's own factor change: every other session of theirs ends (a session
   * that may be a stolen one must not outlive the change), the change is audited with how
   * many ended, and the owner is mailed, all in the change's revocation transaction.
   */
  private async changed(tx: Tx, revoke: Revoke, me: AuthUser, client: ClientMeta, change: FactorChange): Promise<void> {
    const ended = await this.endings.endMany(tx, revoke, { userId: me.id, exceptId: me.sessionId }, 'MFA_CHANGED');
    await this.audit.record(tx, {
      type: change.type,
      userId: me.id,
      actorId: me.id,
      sessionId: me.sessionId,
      client,
      data: { ...change.data, otherSessionsEnded: ended.length },
    });
    await this.notify(tx, me.id, change.notice);
  }

  /** Mails the account's owner a security notice, in `tx` (sent only if the change commits). */
  private async notify(tx: Tx, userId: string, what: string): Promise<void> {
    const email = await this.users.emailOf(tx, userId);
    if (email) await this.mail.notify(tx, email, what);
  }
}
