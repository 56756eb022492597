import { hash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '../../events/event-bus';
import { MetricsService } from '../../metrics/metrics.service';
import type { VerifiedAccessToken } from './access-token';

/**
 * Tokens verified once on this instance. Each entry holds the token's SHA-256 (not the
 * ~500-character token) and its facts: 590–800 bytes of heap as measured by `npm run bench`
 * (1.3 KB when keyed by the token itself), so the bound is 60–80 MB at worst, reached only
 * with 100,000 distinct tokens alive at once (one per signed-in client within one
 * ACCESS_TOKEN_TTL). Past it, the least recently used goes first.
 */
export const MAX_VERIFIED_TOKENS = 100_000;

/**
 * An LRU map whose entries expire: `get` never returns an entry at or past its
 * `expiresAt` (ms), and forgets it; `set` evicts the least recently used entry past
 * `capacity`. A Map keeps insertion order, so "used" means deleted and set again.
 */
export class ExpiringLru<T extends { expiresAt: number }> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly capacity: number) {}

  get(key: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: T): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The verification cache of access tokens, keyed by the exact token string: a token
 * that passed every check (header, key, signature, claims) is not verified again on
 * this instance until it expires. An asymmetric signature costs ~100 µs (ES256) where
 * HS256 cost ~25 µs; a client sends one token many times, so this keeps authenticated
 * requests at the speed they had. Only successes are kept: a forged token is a miss
 * every time, and never takes a place. Any change of the keys empties it, so a token
 * of a key that left memory is verified again (and refused). Revocation is not cached:
 * it is checked on every request, after this.
 */
@Injectable()
export class VerifiedTokens extends ExpiringLru<VerifiedAccessToken> {
  constructor(private readonly metrics: MetricsService) {
    super(MAX_VERIFIED_TOKENS);
    metrics.watchVerifiedTokens(() => this.size);
  }

  @OnEvent('signing-keys.replaced')
  keysReplaced(): void {
    this.clear();
  }

  override get(token: string, now = Date.now()): VerifiedAccessToken | undefined {
    const entry = super.get(digest(token), now);
    this.metrics.verification(entry ? 'hit' : 'miss');
    return entry;
  }

  override set(token: string, entry: VerifiedAccessToken): void {
    super.set(digest(token), entry);
  }
}

/**
 * The cache key of a token: its SHA-256, which stands for the exact string (a collision
 * is out of reach) in 43 characters instead of ~500. Never a part of the token: a key of
 * the signature alone would let a forged header or payload borrow a real signature's hit.
 */
function digest(token: string): string {
  // The one-shot hash: half the time of createHash().update().digest(), on every request.
  return hash('sha256', token, 'base64url');
}
