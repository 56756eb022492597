import { DiscoveryService } from '@nestjs/core';
import type { Tx } from '../../database/tx';
import type { SignInFacts } from './sign-in-facts';

/**
 * A way to prove something at sign-in (the password; later TOTP, a recovery code, a
 * passkey, another provider). Its own route or passport strategy takes the proof and
 * yields `SignInFacts`; SignInService completes the sign-in with them. Registered with
 * `@ProvidesSignInMethod()` on the provider, found wherever its module is mounted.
 */
/**
 * What the client sent as a further step's proof (POST /auth/login/mfa): a code (TOTP, a
 * recovery code), or a passkey's assertion with the challenge it answers. SignInService adds
 * the pending sign-in it answers (the SHA-256 of its mfaToken), to which a challenge is bound.
 */
export type StepProof = string | AssertionProof;
export interface AssertionProof {
  challengeId: string;
  response: Record<string, unknown>;
  /** Set by SignInService: the pending sign-in this step answers. */
  pendingSignIn?: string;
}

export interface SignInMethod {
  /** Its name in an `mfaRequired` answer's `methods` (and, later, /auth/login/mfa's `method`). */
  readonly name: string;
  /**
   * Whether this user can take it as the next step of a sign-in that proved `facts`
   * (a confirmed TOTP, a passkey registered). Absent: never a further step (a first factor).
   */
  offeredAfter?(tx: Tx, facts: SignInFacts): Promise<boolean>;
  /**
   * A further step's proof (POST /auth/login/mfa's `code`, or a passkey's assertion), checked in the sign-in's
   * transaction: the facts after it (e.g. amr `["pwd", "otp", "mfa"]`, acr aal2), or null
   * for a wrong, replayed or used proof. What it consumes (a TOTP step, a recovery code)
   * is written in `tx`, so it counts only if the session opens.
   */
  proveStep?(tx: Tx, facts: SignInFacts, proof: StepProof): Promise<SignInFacts | null>;
  /**
   * POST /auth/reauthenticate `{ method: <name>, ... }` (src/auth/step-up): checks `proof`
   * (the request body: `code`, or a passkey's `challengeId` and `response`) for the signed-in
   * user whose session so far proved `facts`, in the re-authentication's transaction; the
   * facts after it (e.g. amr with `otp`, acr aal2), or null for a wrong, replayed or used
   * proof. Absent: the method cannot re-authenticate (400 for that `method`).
   */
  reauthenticate?(tx: Tx, facts: SignInFacts, proof: Readonly<Record<string, unknown>>): Promise<SignInFacts | null>;
  /**
   * Whether this user can sign in with this method alone, as `tx` sees the account now (a
   * password set, a provider linked, a passkey). Removing a way to sign in
   * (DELETE /auth/identities/:id) asks every method after the removal and refuses (409)
   * when none answers yes. Absent: never a way in on its own (a second factor).
   */
  signsInAlone?(tx: Tx, userId: string): Promise<boolean>;
}

/**
 * A rule of the sign-in policy: the level a sign-in with these facts must reach before a
 * session opens (null: no demand). "The user has a confirmed second factor", or
 * MFA_REQUIRED_ROLES, are rules. Registered with `@ProvidesSignInRule()`.
 */
export interface SignInRule {
  requires(tx: Tx, facts: SignInFacts): Promise<SignInFacts['acr'] | null>;
}

/** Marks a provider as a SignInMethod (`grep -rn ProvidesSignInMethod` lists them all). */
export const ProvidesSignInMethod = DiscoveryService.createDecorator<void>();
/** Marks a provider as a SignInRule (`grep -rn ProvidesSignInRule` lists them all). */
export const ProvidesSignInRule = DiscoveryService.createDecorator<void>();
