import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import { AuditService } from '../../audit/audit.service';
import { MailService } from '../../mail/mail.service';
import { UsersRepository } from '../../users/users.repository';
import type { SignInFacts } from '../sign-in/sign-in-facts';
import { ProvidesSignInMethod, ProvidesSignInRule, type SignInMethod, type SignInRule, type StepProof } from '../sign-in/sign-in-method';
import { MfaFactorsRepository } from './mfa-factors.repository';
import { totpStepOf } from './totp';
import { TotpSecrets } from './totp-secrets';

/**
 * What a second step adds (RFC 8176): `otp` and `mfa`, at aal2. A recovery code is a
 * single-use secret, a one-time password in RFC 8176's sense (it lists no value of its
 * own for it), so it adds the same; the audit trail tells them apart
 * (`mfa.recovery_code_used`, and `login.succeeded`'s data).
 */
function afterSecondFactor(facts: SignInFacts): SignInFacts {
  return { ...facts, amr: [...new Set([...facts.amr, 'otp', 'mfa'])], acr: 'aal2' };
}

/** TOTP (RFC 6238) as a further step: each code accepted once (the last accepted step, compared and set in SQL). */
@ProvidesSignInMethod()
@Injectable()
export class TotpMethod implements SignInMethod {
  readonly name = 'totp';

  constructor(
    private readonly factors: MfaFactorsRepository,
    private readonly secrets: TotpSecrets,
  ) {}

  offeredAfter(tx: Tx, facts: SignInFacts): Promise<boolean> {
    return this.factors.hasConfirmedTotp(tx, facts.userId);
  }

  /** POST /auth/reauthenticate `{ method, code }`: the same proof as a second step. */
  async reauthenticate(tx: Tx, facts: SignInFacts, proof: Readonly<Record<string, unknown>>): Promise<SignInFacts | null> {
    return typeof proof.code === 'string' ? this.proveStep(tx, facts, proof.code) : null;
  }

  async proveStep(tx: Tx, facts: SignInFacts, code: StepProof): Promise<SignInFacts | null> {
    if (typeof code !== 'string') return null;
    const factor = await this.factors.lockTotp(tx, facts.userId);
    if (!factor?.confirmedAt) return null;
    const step = await totpStepOf(await this.secrets.open(tx, facts.userId, factor.secretSealed), code);
    if (step === null || !(await this.factors.acceptStep(tx, facts.userId, step, true))) return null;
    return afterSecondFactor(facts);
  }
}

/** A recovery code as a further step: single use (deleted as it is used), audited and mailed. */
@ProvidesSignInMethod()
@Injectable()
export class RecoveryCodeMethod implements SignInMethod {
  readonly name = 'recovery_code';

  constructor(
    private readonly factors: MfaFactorsRepository,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly users: UsersRepository,
  ) {}

  async offeredAfter(tx: Tx, facts: SignInFacts): Promise<boolean> {
    return (await this.factors.remainingCodes(tx, facts.userId)) > 0;
  }

  /** POST /auth/reauthenticate `{ method, code }`: the same proof as a second step. */
  async reauthenticate(tx: Tx, facts: SignInFacts, proof: Readonly<Record<string, unknown>>): Promise<SignInFacts | null> {
    return typeof proof.code === 'string' ? this.proveStep(tx, facts, proof.code) : null;
  }

  async proveStep(tx: Tx, facts: SignInFacts, code: StepProof): Promise<SignInFacts | null> {
    if (typeof code !== 'string') return null;
    if (!(await this.factors.useRecoveryCode(tx, facts.userId, code))) return null;
    const remaining = await this.factors.remainingCodes(tx, facts.userId);
    const email = await this.users.emailOf(tx, facts.userId);
    await this.audit.record(tx, { type: 'mfa.recovery_code_used', userId: facts.userId, actorId: facts.userId, data: { remaining } });
    if (email) await this.mail.notify(tx, email, `A recovery code was used to sign in to your account; ${remaining} remain.`);
    return afterSecondFactor(facts);
  }
}

/** The policy's rule: a user with a confirmed second factor signs in at aal2. */
@ProvidesSignInRule()
@Injectable()
export class SecondFactorRule implements SignInRule {
  constructor(private readonly factors: MfaFactorsRepository) {}

  async requires(tx: Tx, facts: SignInFacts): Promise<'aal2' | null> {
    return (await this.factors.hasConfirmedTotp(tx, facts.userId)) ? 'aal2' : null;
  }
}
