import { isRole } from '@nest-auth-backend/token-contract';
import type { RevocationEvent } from './revocation-state';

/** The revocation feed's event names (API.md, "Revocation feed") for each kind of event. */
export const FEED_EVENT_KINDS = {
  SESSION_ENDED: 'session.ended',
  USER_TOKENS_REVOKED: 'user.tokens_revoked',
  ROLE_CHANGED: 'user.role_changed',
  KEY_REVOKED: 'key.revoked',
} as const satisfies Record<RevocationEvent['kind'], string>;

export type FeedEventName = (typeof FEED_EVENT_KINDS)[keyof typeof FEED_EVENT_KINDS];

const KIND_OF = Object.fromEntries(Object.entries(FEED_EVENT_KINDS).map(([kind, name]) => [name, kind])) as Record<string, RevocationEvent['kind']>;

/**
 * The event a feed message describes (its `event:` name and JSON `data:`), or null when
 * it is not a revocation (`ready`, `heartbeat`) or does not have the fields of its kind.
 */
export function fromFeedEvent(name: string, data: string, id?: string): RevocationEvent | null {
  const kind = KIND_OF[name];
  if (!kind) return null;
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof d !== 'object' || d === null || typeof d.at !== 'number') return null;
  const at = d.at;
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  const extra = id ? { id } : {};
  switch (kind) {
    case 'SESSION_ENDED':
      return str(d.userId) && str(d.sessionId) ? { kind, userId: d.userId, sessionId: d.sessionId, at, ...extra } : null;
    case 'USER_TOKENS_REVOKED':
      return str(d.userId) && Number.isSafeInteger(d.refreshTokenVersion)
        ? { kind, userId: d.userId, refreshTokenVersion: d.refreshTokenVersion as number, at, ...extra }
        : null;
    case 'ROLE_CHANGED':
      return str(d.userId) && isRole(d.role) ? { kind, userId: d.userId, role: d.role, at, ...extra } : null;
    case 'KEY_REVOKED':
      return str(d.kid) ? { kind, kid: d.kid, at, ...extra } : null;
  }
}
