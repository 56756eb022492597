import type { Tx } from '../database/tx';

/**
 * The NOTIFY channel every instance LISTENs on (RevocationListener): revocation events
 * (rows of `revocation_events`, each announced as it commits) and bare notices.
 */
export const REVOCATION_CHANNEL = 'auth_revocation';

/**
 * The bare notices of the channel, by kind: what one instance tells the others with no row
 * behind it (nothing to replay after a reconnect, so each must be harmless to miss once
 * `channel.resynced` has been acted on). An open registry: a feature declares its own kinds
 * in its own folder, by declaration merging —
 *
 *   declare module '../../events/channel' { interface ChannelNotices { KEYS_CHANGED: object } }
 *
 * (src/auth/keys/keys-changed.ts, src/clients/client-deleted.ts). Whoever hears one emits
 * `channel.notice` on the bus; the subscribers pick their kinds.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ChannelNotices {}

/** A notice of any declared kind: `{ kind, ...its fields }`. */
export type ChannelNotice = { [K in keyof ChannelNotices]: { kind: K } & ChannelNotices[K] }[keyof ChannelNotices];

/** Tells every instance (this one included, when it listens) `notice`, once and only if `tx` commits. */
export async function announce(tx: Tx, notice: ChannelNotice): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${REVOCATION_CHANNEL}, ${JSON.stringify(notice)})`;
}
