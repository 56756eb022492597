import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  type VerifiedAuthenticationResponse,
  type VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import type { AppConfig } from '../../config/configuration';
import type { Passkey } from './passkeys.repository';
import { CHALLENGE_TTL_MS } from './webauthn-challenges';

type Credential = Pick<Passkey, 'credentialId' | 'transports'>;
export type RegistrationInfo = NonNullable<VerifiedRegistrationResponse['registrationInfo']>;
export type AssertionInfo = VerifiedAuthenticationResponse['authenticationInfo'];

/** A challenge as bytes: a string would be taken as text and encoded again (the options' challenge is base64url of these bytes, as stored). */
const bytesOf = (challenge: string) => new Uint8Array(Buffer.from(challenge, 'base64url'));

/** The WebAuthn user handle of a user: the bytes of their id (a UUID: no personal data). */
export const userHandleOf = (userId: string) => new TextEncoder().encode(userId);

/**
 * This server as a WebAuthn relying party (WEBAUTHN_RP_ID, WEBAUTHN_RP_NAME,
 * WEBAUTHN_ORIGINS): options to send, answers to verify. Every check of an answer
 * (challenge, origin, RP ID hash, flags, signature, counter) is @simplewebauthn/server's;
 * a refusal is null, and its reason is never logged (it may quote the client's data).
 */
@Injectable()
export class RelyingParty {
  readonly rpId: string;
  private readonly rpName: string;
  private readonly origins: string[];

  constructor(config: ConfigService<AppConfig, true>) {
    ({ rpId: this.rpId, rpName: this.rpName, origins: this.origins } = config.get('webauthn', { infer: true }));
  }

  /**
   * Registration: a discoverable credential (resident key required, so that it can sign in
   * without an email), user verification required (a passkey is then a factor on its own:
   * something the person has, unlocked by something they know or are), no attestation (no
   * authenticator model is required or refused), the user's passkeys excluded.
   */
  registrationOptions(
    user: { id: string; email: string; name: string | null },
    challenge: string,
    existing: Credential[],
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return generateRegistrationOptions({
      rpName: this.rpName,
      rpID: this.rpId,
      userName: user.email,
      userDisplayName: user.name ?? user.email,
      userID: userHandleOf(user.id),
      challenge: bytesOf(challenge),
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    });
  }

  /** Authentication: `allow` empty for a usernameless sign-in (the authenticator offers its discoverable credentials). */
  authenticationOptions(challenge: string, allow: Credential[], userVerification: 'required' | 'preferred'): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: this.rpId,
      challenge: bytesOf(challenge),
      timeout: CHALLENGE_TTL_MS,
      userVerification,
      allowCredentials: allow.map((c) => ({ id: c.credentialId, transports: c.transports })),
    });
  }

  async verifyRegistration(response: Record<string, unknown>, challenge: string): Promise<RegistrationInfo | null> {
    try {
      const verified = await verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        requireUserVerification: true,
      });
      return verified.verified ? verified.registrationInfo : null;
    } catch {
      return null;
    }
  }

  /**
   * An assertion by `passkey`: signature, challenge, origin, RP ID hash, user presence, user
   * verification when asked, and the counter (refused unless it grows when either side
   * keeps one: a synced passkey's constant 0 passes, a cloned authenticator's replay does not).
   */
  async verifyAssertion(
    response: Record<string, unknown>,
    challenge: string,
    passkey: Passkey,
    requireUserVerification: boolean,
  ): Promise<AssertionInfo | null> {
    try {
      const verified = await verifyAuthenticationResponse({
        response: response as unknown as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(passkey.publicKey),
          counter: Number(passkey.counter),
          transports: passkey.transports,
        },
        requireUserVerification,
      });
      return verified.verified ? verified.authenticationInfo : null;
    } catch {
      return null;
    }
  }
}
