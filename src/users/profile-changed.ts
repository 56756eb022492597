/**
 * The users' notice on the revocation channel: "this account's profile changed" (its email,
 * or the account is gone), so that every instance drops the profile it cached for
 * GET /auth/me. No row: an instance that missed it clears its whole cache on
 * `channel.resynced` (UsersService).
 */
declare module '../events/channel' {
  interface ChannelNotices {
    PROFILE_CHANGED: { userId: string };
  }
}

export const PROFILE_CHANGED = 'PROFILE_CHANGED';
