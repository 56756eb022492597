import { SetMetadata } from '@nestjs/common';

/** Metadata key of `@RequiresRecentAuth()`: what a step-up guard reads. */
export const REQUIRES_RECENT_AUTH = 'auth:requires-recent-auth';

/**
 * Marks an account-security route "recent" (API.md, "Second factors, step-up and
 * passkeys"): the access token's `auth_time` within REAUTH_MAX_AGE, and `acr` aal2 for a
 * user with a second factor; otherwise RFC 9470's 401 `insufficient_user_authentication`.
 * Enforced by RecentAuthGuard (src/auth/step-up/recent-auth.guard.ts).
 */
export const RequiresRecentAuth = () => SetMetadata(REQUIRES_RECENT_AUTH, true);
