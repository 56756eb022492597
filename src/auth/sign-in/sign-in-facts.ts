import { createHash } from 'node:crypto';
import type { User } from '../../generated/prisma/client';
import type { Acr } from '@nest-auth-backend/token-contract';

export type { Acr } from '@nest-auth-backend/token-contract';

/** The one message for every failed sign-in: unknown email, wrong password, disabled account. */
export const LOGIN_FAILED = 'Invalid email or password';

/**
 * What the methods of a sign-in proved so far: never a secret, never a database row.
 * `amr` and `acr` end up on the session and in every access token of it.
 */
export interface SignInFacts {
  userId: string;
  /** RFC 8176 values in the order proven: `["pwd"]`; after a second step e.g. `["pwd", "otp", "mfa"]`. */
  amr: string[];
  /** The assurance level the facts reach. */
  acr: Acr;
  /**
   * What the first factor was checked against (`credentialStamp`): the session opens only
   * if the account still has it when the sign-in completes.
   */
  credential: string;
}

/** Level order: whether `have` is at least `need`. */
export function reaches(have: Acr, need: Acr): boolean {
  return ACR_RANK[have] >= ACR_RANK[need];
}
const ACR_RANK: Record<Acr, number> = { aal1: 1, aal2: 2 };

/**
 * What a sign-in was checked against: the password hash and the token version, as one
 * fingerprint (SHA-256, so that the facts never hold the hash itself). A password
 * change or reset replaces the hash; logout-all, force-logout and a reset raise the version.
 */
export function credentialStamp(user: Pick<User, 'passwordHash' | 'refreshTokenVersion'>): string {
  return createHash('sha256').update(`${user.refreshTokenVersion}:${user.passwordHash}`).digest('base64url');
}
