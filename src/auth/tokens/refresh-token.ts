import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { deriveKey, SERVER_SECRETS, type ServerSecrets } from '../secret/server-secret';

/** A refresh token has this shape; anything else is refused before touching the database. */
export const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Refresh tokens are opaque: 256 bits from the CSPRNG, base64url. The database stores
 * only their SHA-256, so a database dump yields no usable token.
 */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The token that replaces `token` when it is rotated: HMAC-SHA256 under a server key.
 *
 * Why derived rather than drawn fresh: concurrent refreshes with one token (several tabs,
 * a retry after a lost response) must all receive the same new token, on any instance,
 * while the database holds only hashes. Deriving the successor lets whichever request
 * holds the old token recompute it; without the key nobody can, so a stolen rotated-away
 * token still cannot be turned into the current one. The chain starts from a CSPRNG token
 * at login and each link is a PRF output of the previous one.
 */
export function successorOf(token: string, key: Buffer): string {
  return createHmac('sha256', key).update('refresh-token-successor\0').update(token, 'utf8').digest('base64url');
}

/** Constant-time comparison of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The refresh-token contract in one place: its shape, its stored hash, its successor.
 * The successor key is derived from the server secret for this purpose alone (the same
 * derivation as before it had a module of its own, so successors are byte-identical
 * across that change): signing keys can rotate without touching it.
 *
 * While the secret itself rotates (AUTH_SECRET_PREVIOUS), a token rotated just before
 * the switch has a successor under the previous secret: `successorsOf` gives both, and
 * the session's stored hash says which one is its current token.
 */
@Injectable()
export class RefreshTokens {
  private readonly successorKey: Buffer;
  private readonly previousSuccessorKey?: Buffer;

  constructor(@Inject(SERVER_SECRETS) secrets: ServerSecrets) {
    this.successorKey = deriveKey(secrets.current, 'refresh-token-successor-key');
    if (secrets.previous) this.previousSuccessorKey = deriveKey(secrets.previous, 'refresh-token-successor-key');
  }

  readonly issue = newRefreshToken;
  readonly hash = hashRefreshToken;
  readonly matches = sameHash;

  isWellFormed(token: string): boolean {
    return REFRESH_TOKEN_PATTERN.test(token);
  }

  /** The successor a rotation gives now (under the current secret). */
  successorOf(token: string): string {
    return successorOf(token, this.successorKey);
  }

  /** Every successor `token` may have been given: under the current secret, then under the previous one. */
  successorsOf(token: string): string[] {
    const current = this.successorOf(token);
    return this.previousSuccessorKey ? [current, successorOf(token, this.previousSuccessorKey)] : [current];
  }
}
