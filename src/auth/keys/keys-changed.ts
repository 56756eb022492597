/**
 * The keys' notice on the revocation channel: "the keys changed (a key was added or
 * promoted): reload them". No row: an instance that missed it reloads anyway after its
 * reconnect (`channel.resynced`). A key revoked is a revocation event (KEY_REVOKED), not this.
 */
declare module '../../events/channel' {
  interface ChannelNotices {
    KEYS_CHANGED: object;
  }
}

export const KEYS_CHANGED = 'KEYS_CHANGED';
