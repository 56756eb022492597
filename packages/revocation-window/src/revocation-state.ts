import type { AccessTokenFacts, Role } from '@nest-auth-backend/token-contract';

/**
 * What one revocation event tells every instance (mirrors the RevocationEvent row).
 * `id`: the row's id, when the event came from a row (the feed's event id).
 */
export type RevocationEvent = (
  | { kind: 'SESSION_ENDED'; userId: string; sessionId: string; at: number }
  | { kind: 'USER_TOKENS_REVOKED'; userId: string; refreshTokenVersion: number; at: number }
  | { kind: 'ROLE_CHANGED'; userId: string; role: Role; at: number }
  | { kind: 'KEY_REVOKED'; kid: string; at: number }
) & { id?: string };

/** The claims the revocation check reads from a verified access token (the token contract's facts). */
export type TokenFacts = AccessTokenFacts;

export type Verdict = { revoked: true } | { revoked: false; role: Role };

/**
 * The revocations that can still matter, in memory.
 *
 * An access token lives at most ACCESS_TOKEN_TTL, so an event older than that can no
 * longer concern any valid token: every token it would refuse has expired. Each entry is
 * therefore forgotten `windowMs` after its event, and memory is bounded by the
 * revocations of one TTL, not by the number of sessions or users.
 */
export class RevocationState {
  /** Each entry keeps the `at` of the latest event that set it: it is forgotten `windowMs` after that. */
  private readonly endedSessions = new Map<string, number>();
  private readonly minVersions = new Map<string, { version: number; at: number }>();
  private readonly roles = new Map<string, { role: Role; at: number }>();
  private readonly revokedKeys = new Map<string, number>();

  constructor(private windowMs: number) {}

  /**
   * Changes how long entries are kept (a client learns the server's window from the
   * feed's `ready`): entries held are kept `windowMs` after their event from now on.
   */
  setWindow(windowMs: number): void {
    this.windowMs = windowMs;
  }

  get window(): number {
    return this.windowMs;
  }

  /** Idempotent: applying an event twice, or an old one late, changes nothing more. */
  apply(event: RevocationEvent): void {
    switch (event.kind) {
      case 'SESSION_ENDED':
        this.endedSessions.set(event.sessionId, Math.max(event.at, this.endedSessions.get(event.sessionId) ?? 0));
        break;
      case 'USER_TOKENS_REVOKED': {
        const current = this.minVersions.get(event.userId);
        if (!current || event.refreshTokenVersion >= current.version) {
          this.minVersions.set(event.userId, { version: event.refreshTokenVersion, at: Math.max(event.at, current?.at ?? 0) });
        }
        break;
      }
      case 'ROLE_CHANGED': {
        const current = this.roles.get(event.userId);
        if (!current || event.at >= current.at) this.roles.set(event.userId, { role: event.role, at: event.at });
        break;
      }
      case 'KEY_REVOKED':
        this.revokedKeys.set(event.kid, Math.max(event.at, this.revokedKeys.get(event.kid) ?? 0));
        break;
    }
  }

  verdict(token: TokenFacts): Verdict {
    if (this.endedSessions.has(token.sid) || this.revokedKeys.has(token.kid)) return { revoked: true };
    const min = this.minVersions.get(token.sub);
    if (min && token.ver < min.version) return { revoked: true };
    return { revoked: false, role: this.roles.get(token.sub)?.role ?? token.role };
  }

  /** Forgets what can no longer matter. */
  prune(now: number): void {
    const before = now - this.windowMs;
    for (const [id, at] of this.endedSessions) if (at <= before) this.endedSessions.delete(id);
    for (const [id, entry] of this.minVersions) if (entry.at <= before) this.minVersions.delete(id);
    for (const [id, entry] of this.roles) if (entry.at <= before) this.roles.delete(id);
    for (const [kid, at] of this.revokedKeys) if (at <= before) this.revokedKeys.delete(kid);
  }

  clear(): void {
    this.endedSessions.clear();
    this.minVersions.clear();
    this.roles.clear();
    this.revokedKeys.clear();
  }

  get size(): number {
    return this.endedSessions.size + this.minVersions.size + this.roles.size + this.revokedKeys.size;
  }
}
