import type { SessionsRepository } from '../sessions/sessions.repository';
import type { TokenFacts, Verdict } from './revocation-state';

/** What the fallback reads about signing keys (SigningKeysRepository). */
export interface KeyRevocations {
  isRevoked(kid: string): Promise<boolean>;
}

/** Bounds the memory of recent answers; past it, the oldest go first. */
const MAX_REMEMBERED = 10_000;

/**
 * The revocation check while memory cannot be trusted: the session and the user as the
 * database has them now. Under load that would be one query per request, exactly when
 * the database may be in trouble, so its cost is bounded:
 * - concurrent checks of one session share one query (single flight);
 * - an answer is reused for a quarter of the staleness bound, which keeps the bound
 *   (a revocation committed after the read is refused at most that much later) while
 *   cutting the queries to at most four a second per active session.
 * A query that fails is not an answer: it propagates (503), never a 200.
 *
 * The token's signing key is checked the same way (a key revoked elsewhere while this
 * instance could not hear), one query per key shared by all its tokens; a key found
 * revoked is reported (`onKeyRevoked`), so that this instance stops signing with it too.
 */
export class FallbackChecks {
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  private readonly recent = new Map<string, { verdict: Verdict; until: number; facts: string }>();
  private readonly keysInFlight = new Map<string, Promise<boolean>>();
  private readonly keysRecent = new Map<string, { revoked: boolean; until: number }>();
  private readonly reuseMs: number;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly keys: KeyRevocations,
    maxStalenessMs: number,
    /** Called when a read finds a key revoked: what the missed notification would have said. */
    private readonly onKeyRevoked: (kid: string) => void = () => undefined,
  ) {
    this.reuseMs = Math.floor(maxStalenessMs / 4);
  }

  async check(token: TokenFacts): Promise<Verdict> {
    const [verdict, keyRevoked] = await Promise.all([this.checkSession(token), this.checkKey(token.kid)]);
    return keyRevoked ? { revoked: true } : verdict;
  }

  private async checkKey(kid: string): Promise<boolean> {
    const now = Date.now();
    const remembered = this.keysRecent.get(kid);
    if (remembered && remembered.until > now) return remembered.revoked;
    let pending = this.keysInFlight.get(kid);
    if (!pending) {
      pending = this.keys.isRevoked(kid).finally(() => this.keysInFlight.delete(kid));
      this.keysInFlight.set(kid, pending);
    }
    const revoked = await pending;
    if (revoked && !remembered?.revoked) this.onKeyRevoked(kid);
    // Few keys exist at a time; the bound only guards against a flood of (verified) kids.
    if (this.keysRecent.size >= MAX_REMEMBERED) this.keysRecent.clear();
    this.keysRecent.set(kid, { revoked, until: now + this.reuseMs });
    return revoked;
  }

  private async checkSession(token: TokenFacts): Promise<Verdict> {
    const key = `${token.sid}:${token.sub}:${token.ver}`;
    const now = Date.now();
    const remembered = this.recent.get(token.sid);
    if (remembered && remembered.facts === key && remembered.until > now) return remembered.verdict;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.read(token).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const verdict = await pending;
    this.remember(token.sid, { verdict, until: now + this.reuseMs, facts: key });
    return verdict;
  }

  private async read(token: TokenFacts): Promise<Verdict> {
    const session = await this.sessions.authority(token.sid);
    if (!session || session.userId !== token.sub || session.ended || token.ver < session.refreshTokenVersion) return { revoked: true };
    return { revoked: false, role: session.role };
  }

  private remember(sid: string, entry: { verdict: Verdict; until: number; facts: string }): void {
    this.recent.delete(sid);
    this.recent.set(sid, entry);
    if (this.recent.size > MAX_REMEMBERED) this.recent.delete(this.recent.keys().next().value!);
  }
}
