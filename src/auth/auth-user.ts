import type { Acr, Role } from '@nest-auth-backend/token-contract';

/**
 * The caller of a bearer-authenticated route, as JwtStrategy leaves it on `request.user`
 * (`@CurrentUser()`): the holder of a valid access token of session `sessionId`. Never a
 * database row, never a hash. (A sign-in route's `request.user` is what its method proved:
 * SignInFacts, read with `@Proven()`.)
 */
export interface AuthUser {
  id: string;
  sessionId: string;
  /** The user's current role (a change applies from the next request), not the token's claim. */
  role: Role;
  tokenVersion: number;
  /** The token's `auth_time`: epoch seconds of the session's last sign-in or re-authentication. */
  authTime: number;
  /** The token's `amr` (RFC 8176) and `acr`: what that authentication proved. */
  amr: readonly string[];
  acr: Acr;
}
