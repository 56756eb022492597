import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  accessTokenClaimsOf,
  accessTokenHeaderOf,
  isCanonicalEs256,
  toCanonicalEs256,
  type AccessTokenFacts,
  type Acr,
  type AuthenticationClaims,
  type Role,
} from '@nest-auth-backend/token-contract';
import { sign, verify } from 'jsonwebtoken';
import type { AppConfig } from '../../config/configuration';
import { SigningKeys } from '../keys/signing-keys.service';

// The contract (claims, header, bearer rule, roles) is @nest-auth-backend/token-contract, shared with the client module.
export type { AccessTokenClaims, AccessTokenFacts } from '@nest-auth-backend/token-contract';

/** The session's sign-in facts as claims (API.md, "Second factors"): `auth_time` in epoch seconds. */
function authenticationClaims(subject: AccessTokenSubject): AuthenticationClaims {
  return { auth_time: Math.floor(subject.authTime.getTime() / 1000), amr: subject.amr, acr: subject.acr };
}

/** A token that passed every check once: its facts, until it expires (ms). */
export interface VerifiedAccessToken {
  facts: AccessTokenFacts;
  /** How its session was authenticated (`auth_time` in epoch seconds, `amr`, `acr`): read by step-up. */
  authentication: AuthenticationClaims;
  expiresAt: number;
}

/**
 * The outcome of `verify`: the token, or why not. `malformed`: the signature is ours
 * but the claims are not what we issue (answered with its own message, as before).
 */
export type Verification = { ok: true; token: VerifiedAccessToken } | { ok: false; reason: Error; malformed?: boolean };

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  tokenVersion: number;
  role: Role;
  /** The session's sign-in facts (its `auth_time`, `amr`, `acr` columns): what the sign-in proved, carried over by every refresh. */
  authTime: Date;
  amr: string[];
  acr: Acr;
}

/**
 * The access-token contract: what `sign` issues is exactly what `verify` accepts.
 *
 * Signed with the signing key of the moment (SigningKeys: ES256 or RS256, rotating) and
 * the header `{ alg, typ: "at+jwt", kid }`. Verified against the key its kid names, with
 * that key's algorithm pinned (so HS256 "signed" with a public key, RS/ES confusion and
 * `none` never reach a verifier that would accept them), by jsonwebtoken with the key's
 * `KeyObject`; then `factsOf` insists on exactly our claims. A kid that names no key of
 * ours (unknown, never ours, revoked, retired past its last token) is refused with no
 * database query. HS256, the scheme before asymmetric keys, is refused like any other
 * algorithm a key does not have.
 */
@Injectable()
export class AccessTokens {
  readonly ttl: number;
  private readonly issuer: string;
  private readonly audience: string;

  constructor(
    private readonly keys: SigningKeys,
    config: ConfigService<AppConfig, true>,
  ) {
    ({ accessTokenTtl: this.ttl, issuer: this.issuer, audience: this.audience } = config.get('auth', { infer: true }));
  }

  sign(subject: AccessTokenSubject): string {
    const key = this.keys.signingKey();
    const token = sign({ sid: subject.sessionId, ver: subject.tokenVersion, role: subject.role, ...authenticationClaims(subject) }, key.privateKey, {
      algorithm: key.algorithm,
      // jsonwebtoken writes { alg, typ, kid } in this order; `typ` replaces its default "JWT".
      keyid: key.kid,
      header: { alg: key.algorithm, typ: ACCESS_TOKEN_TYPE },
      subject: subject.userId,
      jwtid: randomUUID(),
      expiresIn: this.ttl,
      issuer: this.issuer,
      audience: this.audience,
    });
    // One spelling per token: ECDSA's other valid signature (r, n - s) is never issued, and refused.
    return key.algorithm === 'ES256' ? toCanonicalEs256(token) : token;
  }

  /** Every check of a presented token: the header, the key, the signature, `exp`/`iss`/`aud`, the claims. */
  verify(token: string): Verification {
    // The kid is only ever a key of an in-memory map: one of the contract's form, or refused unread.
    const header = accessTokenHeaderOf(token);
    if (!header) return refused('Not an access token of ours');
    const key = this.keys.verificationKey(header.kid);
    if (!key) return refused('Unknown signing key');
    if (header.alg !== key.algorithm) return refused('Wrong algorithm for its key');
    if (key.algorithm === 'ES256' && !isCanonicalEs256(token)) return refused('Non-canonical signature');
    let payload: unknown;
    try {
      payload = verify(token, key.publicKey, { algorithms: [key.algorithm], issuer: this.issuer, audience: this.audience });
    } catch (error) {
      // JsonWebTokenError, TokenExpiredError (its name gives "Access token expired"), NotBeforeError.
      return { ok: false, reason: error as Error };
    }
    const claims = this.claimsOf(payload);
    if (!claims) return { ok: false, reason: new Error('Malformed access token'), malformed: true };
    const { sub, sid, ver, role, auth_time, amr, acr } = claims;
    return {
      ok: true,
      token: { facts: { sub, sid, ver, role, kid: key.kid }, authentication: { auth_time, amr, acr }, expiresAt: (payload as { exp: number }).exp * 1000 },
    };
  }

  /**
   * The facts of a verified payload, or null: exactly the claims of the contract
   * (`accessTokenClaimsOf`, `exact`: nothing we do not issue), with our issuer and
   * audience and a lifetime no longer than ACCESS_TOKEN_TTL.
   */
  factsOf(payload: unknown): Omit<AccessTokenFacts, 'kid'> | null {
    const claims = this.claimsOf(payload);
    return claims && { sub: claims.sub, sid: claims.sid, ver: claims.ver, role: claims.role };
  }

  /** `factsOf`'s checks, keeping the sign-in claims (`requireAuthentication`: always there). */
  private claimsOf(payload: unknown): (AccessTokenClaims & AuthenticationClaims) | null {
    const claims = accessTokenClaimsOf(payload, {
      issuer: this.issuer,
      audience: this.audience,
      exact: true,
      requireAuthentication: true,
      maxLifetime: this.ttl,
    });
    return claims as (AccessTokenClaims & AuthenticationClaims) | null;
  }
}

function refused(message: string): Verification {
  return { ok: false, reason: new Error(message) };
}
