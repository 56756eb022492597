import type { KeyObject } from 'node:crypto';
import type { PublicJwk, PublishedJwk, SigningAlgorithm } from './signing-key';

/** Clock difference tolerated between instances (and the database) around a key's dates. */
export const KEY_CLOCK_SKEW_MS = 60_000;

/** A trusted, unrevoked key as an instance holds it in memory. */
export interface RingKey {
  kid: string;
  algorithm: SigningAlgorithm;
  publicJwk: PublicJwk;
  publicKey: KeyObject;
  privateKey: KeyObject;
  activatesAt: number;
  /** Undefined while the key has no successor. */
  retiresAt?: number;
}

/**
 * The keys of one instance, in memory: which one signs now, which ones verify, what the
 * JWKS publishes. Revoked keys are never in it. Immutable: a change builds a new ring.
 *
 * - Signing: the key activated last (activatesAt ≤ now). Before any has (a promotion
 *   seen from a clock slightly behind the database's), the one that activates first:
 *   signing never stops for want of a key.
 * - Verifying and publishing: every key until the last token it can have signed has
 *   expired (retiresAt + ACCESS_TOKEN_TTL), next keys included (an instance whose
 *   clock is ahead may sign with one a moment early).
 */
export class KeyRing {
  private readonly byKid: Map<string, RingKey>;

  constructor(
    readonly keys: readonly RingKey[],
    private readonly tokenTtlMs: number,
  ) {
    this.byKid = new Map(keys.map((k) => [k.kid, k]));
  }

  get size(): number {
    return this.keys.length;
  }

  get(kid: string): RingKey | undefined {
    return this.byKid.get(kid);
  }

  signingKey(now: number): RingKey | undefined {
    let signing: RingKey | undefined;
    for (const key of this.keys) if (key.activatesAt <= now && (!signing || key.activatesAt >= signing.activatesAt)) signing = key;
    if (signing) return signing;
    for (const key of this.keys) if (!signing || key.activatesAt < signing.activatesAt) signing = key;
    return signing;
  }

  /** The key `kid` names if tokens it signed can still be valid at `now`. */
  verificationKey(kid: string, now: number): RingKey | undefined {
    const key = this.byKid.get(kid);
    return key && this.stillVerifies(key, now) ? key : undefined;
  }

  /** The JWKS: every key that is next, active, or signed a token that can still be valid. */
  published(now: number): PublishedJwk[] {
    return this.keys.filter((key) => this.stillVerifies(key, now)).map((key) => ({ ...key.publicJwk, kid: key.kid, alg: key.algorithm, use: 'sig' }));
  }

  /** The same ring without `kid` (a revocation heard, before the reload). */
  without(kid: string): KeyRing {
    return new KeyRing(
      this.keys.filter((k) => k.kid !== kid),
      this.tokenTtlMs,
    );
  }

  private stillVerifies(key: RingKey, now: number): boolean {
    return key.retiresAt === undefined || now < key.retiresAt + this.tokenTtlMs + KEY_CLOCK_SKEW_MS;
  }
}
