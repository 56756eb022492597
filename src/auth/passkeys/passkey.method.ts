import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import type { SignInFacts } from '../sign-in/sign-in-facts';
import { ProvidesSignInMethod, ProvidesSignInRule, type SignInMethod, type SignInRule, type StepProof } from '../sign-in/sign-in-method';
import { afterPasskey, PasskeyAssertions } from './passkey-assertions';
import { PasskeysRepository } from './passkeys.repository';

/**
 * A passkey as a further step after a password (POST /auth/login/mfa `method: "passkey"`)
 * and for POST /auth/reauthenticate. Its usernameless sign-in, a first factor at aal2, is
 * PasskeysService.signIn through the same SignInService. Being offered to a user who has a
 * passkey also makes that user one "with a second factor" (step-up's SecondFactors).
 */
@ProvidesSignInMethod()
@Injectable()
export class PasskeyMethod implements SignInMethod {
  readonly name = 'passkey';

  constructor(
    private readonly passkeys: PasskeysRepository,
    private readonly assertions: PasskeyAssertions,
  ) {}

  offeredAfter(tx: Tx, facts: SignInFacts): Promise<boolean> {
    return this.passkeys.has(tx, facts.userId);
  }

  /** A passkey signs in on its own (usernameless, with user verification): unlinking a provider may leave it as the way in. */
  signsInAlone(tx: Tx, userId: string): Promise<boolean> {
    return this.passkeys.has(tx, userId);
  }

  /**
   * The challenge must be this pending sign-in's (POST /auth/login/mfa/passkey-options) and
   * the credential this user's. User verification is not required after a password (the
   * password is the other factor), so a security key without a PIN serves here.
   */
  async proveStep(tx: Tx, facts: SignInFacts, proof: StepProof): Promise<SignInFacts | null> {
    if (typeof proof === 'string' || proof.pendingSignIn === undefined) return null;
    const binding = { userId: facts.userId, pendingSignIn: proof.pendingSignIn };
    const passkey = await this.assertions.check(tx, proof, 'second-step', binding, false);
    return passkey ? afterPasskey(facts, passkey) : null;
  }

  /**
   * POST /auth/reauthenticate `{ method: "passkey", challengeId, response }`, the options from
   * POST /auth/passkeys/authentication/options with the bearer token (bound to the user). User
   * verification is required: the passkey alone re-proves the session at aal2.
   */
  async reauthenticate(tx: Tx, facts: SignInFacts, proof: Readonly<Record<string, unknown>>): Promise<SignInFacts | null> {
    const { challengeId, response } = proof;
    if (typeof challengeId !== 'string' || typeof response !== 'object' || response === null) return null;
    const passkey = await this.assertions.check(
      tx,
      { challengeId, response: response as Record<string, unknown> },
      'reauthentication',
      { userId: facts.userId },
      true,
    );
    return passkey ? afterPasskey(facts, passkey) : null;
  }
}

/** The policy's rule: a user with a passkey signs in at aal2 (a password alone then asks for a further step). */
@ProvidesSignInRule()
@Injectable()
export class PasskeyRule implements SignInRule {
  constructor(private readonly passkeys: PasskeysRepository) {}

  async requires(tx: Tx, facts: SignInFacts): Promise<'aal2' | null> {
    return (await this.passkeys.has(tx, facts.userId)) ? 'aal2' : null;
  }
}
