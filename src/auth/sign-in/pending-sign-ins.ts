import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import type { MfaRequiredDto } from './mfa-required.dto';
import type { SignInFacts } from './sign-in-facts';

/** MFA_TOKEN_TTL's default (API.md): the setting arrives with the second step. */
export const MFA_TOKEN_TTL_SECONDS = 300;

/**
 * Sign-ins that proved a first factor and wait for a further step: the seam where the
 * second step (POST /auth/login/mfa, issue 26) starts and ends.
 *
 * Minimal on purpose, and so it says: no method that can take a further step exists yet
 * (none is registered in src/), so no route redeems an mfaToken, and nothing is stored;
 * the token is drawn as the contract says (256 bits from a CSPRNG). The second step
 * stores, in `tx` (the sign-in's transaction, with the user's row locked), the token's
 * SHA-256 with `facts` (the credential stamp included, compared again when the session
 * finally opens), `methods`, the expiry and an attempt count; and adds `take(mfaToken)`.
 */
@Injectable()
export class PendingSignIns {
  start(_tx: Tx, _facts: SignInFacts, methods: string[]): Promise<MfaRequiredDto> {
    const mfaToken = randomBytes(32).toString('base64url');
    return Promise.resolve({ mfaRequired: true, mfaToken, methods, expiresIn: MFA_TOKEN_TTL_SECONDS });
  }
}
