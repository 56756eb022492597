import type { Role } from '@nest-auth-backend/token-contract';

/**
 * The caller, as every guard leaves it on `request.user` (`@CurrentUser()`): never a
 * database row, never a hash.
 * - passport-jwt: the holder of a valid access token, of session `sessionId`;
 * - passport-local: the account whose password was just checked, and `sessionId` the id
 *   of the session this sign-in opens (drawn at sign-in; the login handler opens it).
 */
export interface AuthUser {
  id: string;
  sessionId: string;
  /** The user's current role (a change applies from the next request), not the token's claim. */
  role: Role;
  tokenVersion: number;
  /**
   * passport-local only: the credential this sign-in was checked against (see
   * `credentialStamp`). The session opens only if the account still has it.
   */
  credential?: string;
}
