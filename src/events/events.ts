import type { RevocationEvent } from '@nest-auth-backend/revocation-window';
import type { AuditEvent } from '../generated/prisma/client';
import type { ChannelNotice } from './channel';

/**
 * Every event of the server, by name, with its payload: the one map that `emit`,
 * `emitInTransaction` and `@OnEvent(name)` are checked against. Every subscriber of an
 * event is a method marked `@OnEvent('that.name')`: `grep -rn "@OnEvent('that.name'" src`
 * lists them all. Two kinds, never mixed (a name is in one map only):
 *
 * In-process events (`bus.emit(name, payload)`): what this process's memory learned. Fire
 * and forget: subscribers run at once, in order; one that throws (or rejects) is logged and
 * the others still run; the emitter never waits and never fails. Losing one loses nothing
 * durable: the database already holds the truth, and each subscriber can read it again.
 *
 * Committed events (`await bus.emitInTransaction(tx, name, payload)`): a change being
 * written in `tx`. Each subscriber receives `tx` and writes in it (outbox rows, revocation
 * rows); they run one after the other, awaited; an error rolls the whole transaction back.
 * So what they write commits with the change or not at all, and is never lost.
 *
 * Order: subscribers run by ascending `order` (`@OnEvent(name, { order })`, default 0), then
 * by `Class.method` name. Where order matters it is said at the event below; today none does.
 */
export interface InProcessEvents {
  /**
   * A revocation event this instance holds for the first time (made here, heard on the
   * channel, or reloaded after a reconnect): RevocationFeed sends it to the services' feeds.
   */
  'revocation.first-heard': RevocationEvent;
  /**
   * A signing key was revoked: a KEY_REVOKED event made here or heard (every time, not only
   * the first), or found revoked by the fallback check. SigningKeys drops it at once.
   */
  'key-revocation.heard': { kid: string };
  /** A bare notice of the channel, heard or made here (ChannelNotices: KEYS_CHANGED, CLIENT_DELETED…). */
  'channel.notice': ChannelNotice;
  /**
   * The revocation window was (re)loaded from the database, at start and after every
   * reconnect of the listener: any notice may have been missed meanwhile. SigningKeys reloads.
   */
  'channel.resynced': object;
  /** The signing keys in memory were replaced (a key added, promoted, revoked, expired): VerifiedTokens empties its cache. */
  'signing-keys.replaced': object;
}

export interface CommittedEvents {
  /** An audit event was written in `tx` (AuditService): WebhookEvents queues its webhooks there. */
  'audit.recorded': AuditEvent;
  /** Revocations declared in `tx` (RevocationService.transaction), as recorded: BackchannelLogout queues the logouts there. */
  'revocations.declared': readonly RevocationEvent[];
  /** A signing key is revoked in `tx` (SigningKeys.revoke): RevocationService declares KEY_REVOKED there. */
  'signing-key.revoked': { kid: string };
  /**
   * A password reset link was followed in `tx` (RecoveryService): the mailbox is proven, and
   * whether the account's email was verified before. UnprovenLinks (src/auth/oidc) drops the providers
   * linked to an account nobody had proven the address of.
   */
  'password.reset-by-mail': { userId: string; emailWasVerified: boolean };
}

export type InProcessEvent = keyof InProcessEvents;
export type CommittedEvent = keyof CommittedEvents;
export type EventName = InProcessEvent | CommittedEvent;
/** The payload of `E` (immich's `ArgOf`). */
export type ArgOf<E extends EventName> = E extends CommittedEvent ? CommittedEvents[E] : E extends InProcessEvent ? InProcessEvents[E] : never;

// A name in both maps would blur the line: the compiler refuses it.
type Both = InProcessEvent & CommittedEvent;
export const ONE_KIND_PER_NAME: [Both] extends [never] ? true : never = true;
