import type { Role } from '../generated/prisma/client';

/** The caller of an authenticated request, as the JWT guard leaves it on `request.user`. */
export interface AuthUser {
  id: string;
  sessionId: string;
  /** The user's current role (a change applies from the next request), not the token's claim. */
  role: Role;
  tokenVersion: number;
}
