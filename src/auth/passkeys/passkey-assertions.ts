import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import type { SignInFacts } from '../sign-in/sign-in-facts';
import { type Passkey, PasskeysRepository } from './passkeys.repository';
import { RelyingParty, userHandleOf } from './relying-party';
import { type Ceremony, type ChallengeBinding, WebauthnChallenges } from './webauthn-challenges';

/** What a client sends to answer a challenge. */
export interface Assertion {
  challengeId: string;
  response: Record<string, unknown>;
}

/**
 * RFC 8176 for a passkey: `swk` when the credential is backup-eligible (BE flag: its private
 * key may be copied to other devices by a sync provider, so it is not bound to one piece of
 * hardware), `hwk` when it is not (a device-bound key: a security key, a TPM, a secure
 * enclave). Transports are not used: `internal` or `hybrid` say how the browser reaches the
 * authenticator, not where the key lives.
 */
export const keyAmrOf = (passkey: Pick<Passkey, 'backupEligible'>): 'hwk' | 'swk' => (passkey.backupEligible ? 'swk' : 'hwk');

/** What a passkey adds to the facts of a sign-in: the key, the user's presence, two factors' level. */
export function afterPasskey(facts: SignInFacts, passkey: Passkey): SignInFacts {
  return { ...facts, amr: [...new Set([...facts.amr, keyAmrOf(passkey), 'user', 'mfa'])], acr: 'aal2' };
}

/** The credential an answer names (`response.id`), if it is a string. */
export const credentialIdOf = (response: Record<string, unknown>): string | undefined => (typeof response.id === 'string' ? response.id : undefined);

/**
 * Checks an assertion in `tx`: takes its challenge (single use, this ceremony, this
 * binding), locks the credential it names, which must be `owner`'s when the ceremony has an
 * owner (another user's credential answers nothing: better-auth PR #9203), verifies it, and
 * writes the new counter. The passkey, or null for any failure.
 */
@Injectable()
export class PasskeyAssertions {
  constructor(
    private readonly challenges: WebauthnChallenges,
    private readonly passkeys: PasskeysRepository,
    private readonly rp: RelyingParty,
  ) {}

  async check(tx: Tx, assertion: Assertion, ceremony: Ceremony, binding: ChallengeBinding, requireUserVerification: boolean): Promise<Passkey | null> {
    const challenge = await this.challenges.take(tx, assertion.challengeId, ceremony, binding);
    const credentialId = credentialIdOf(assertion.response);
    if (!challenge || !credentialId) return null;
    const passkey = await this.passkeys.lockByCredentialId(tx, credentialId);
    if (!passkey || (binding.userId !== undefined && passkey.userId !== binding.userId)) return null;
    // A discoverable credential names its user: it must be the one the credential was made for.
    const userHandle = (assertion.response.response as { userHandle?: unknown } | undefined)?.userHandle;
    if (userHandle !== undefined && userHandle !== Buffer.from(userHandleOf(passkey.userId)).toString('base64url')) return null;
    const info = await this.rp.verifyAssertion(assertion.response, challenge, passkey, requireUserVerification);
    if (!info) return null;
    await this.passkeys.used(tx, passkey.id, { counter: info.newCounter, backedUp: info.credentialBackedUp });
    return passkey;
  }
}
