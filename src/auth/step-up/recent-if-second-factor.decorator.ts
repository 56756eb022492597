import { SetMetadata } from '@nestjs/common';
import { REQUIRES_RECENT_AUTH } from '../decorators/requires-recent-auth.decorator';

/** REQUIRES_RECENT_AUTH's value for `@RecentIfSecondFactor()` (`@RequiresRecentAuth()` sets true). */
export const IF_SECOND_FACTOR = 'if-second-factor';
export type RecentAuthDemand = true | typeof IF_SECOND_FACTOR;

/**
 * "Recent" only for a user who has a second factor (API.md: POST /auth/password keeps its
 * currentPassword and, for such a user, is recent too). Read by RecentAuthGuard.
 */
export const RecentIfSecondFactor = () => SetMetadata(REQUIRES_RECENT_AUTH, IF_SECOND_FACTOR);
