import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isCanonicalEs256, toCanonicalEs256 } from '@nest-auth-backend/revocation-window';
import { sign, verify } from 'jsonwebtoken';
import type { AppConfig } from '../../config/configuration';
import type { Role } from '../../generated/prisma/client';
import { KID_PATTERN } from '../keys/signing-key';
import { SigningKeys } from '../keys/signing-keys.service';

/** RFC 9068 explicit typing: the `typ` of our access tokens, and the only one accepted. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Claims of an access token (API.md, "Tokens"). */
export interface AccessTokenClaims extends SignInClaims {
  sub: string;
  sid: string;
  ver: number;
  role: Role;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  jti: string;
}

// ── The sign-in facts of the token's session (API.md, "Second factors"): what the sign-in
//    proved (src/auth/sign-in), recorded on the session and carried over by every refresh.
/** Assurance levels: aal1 one factor; aal2 two factors, or a passkey with user verification. */
export const ACR_VALUES = ['aal1', 'aal2'] as const;
export type Acr = (typeof ACR_VALUES)[number];
export interface SignInClaims {
  /** Epoch seconds of the session's last authentication (not of a refresh). */
  auth_time: number;
  /** RFC 8176 method references (`pwd`, `otp`, `hwk`, `mfa`…), as the sign-in proved them. */
  amr: string[];
  acr: Acr;
}
const SIGN_IN_CLAIM_KEYS = ['auth_time', 'amr', 'acr'] satisfies Array<keyof SignInClaims>;
/** An RFC 8176 value's form (its registry's are short lower-case words): any method's, so a new method needs no change here. */
const AMR_VALUE = /^[a-z]{2,16}$/;
/** At most this many `amr` values: far above any sign-in (pwd, otp, mfa). */
const MAX_AMR = 8;
/** The session's facts as claims: `auth_time` in epoch seconds. */
function signInClaims(subject: AccessTokenSubject): SignInClaims {
  return { auth_time: Math.floor(subject.authTime.getTime() / 1000), amr: subject.amr, acr: subject.acr };
}
/**
 * Whether a payload's sign-in claims are of the form we issue. `auth_time` is not after
 * `iat` by more than the clock skew: the session may have been opened on an instance whose
 * clock runs ahead of the one refreshing it.
 */
function validSignInClaims(p: Record<string, unknown>): boolean {
  const { auth_time: authTime, amr, acr, iat } = p;
  const timeOk = Number.isSafeInteger(authTime) && (authTime as number) >= 0 && (authTime as number) <= (iat as number) + CLOCK_SKEW_SECONDS;
  const amrOk = Array.isArray(amr) && amr.length > 0 && amr.length <= MAX_AMR && amr.every((v) => typeof v === 'string' && AMR_VALUE.test(v));
  return timeOk && amrOk && ACR_VALUES.includes(acr as Acr);
}
// ── (end of the sign-in facts)

/** What a verified token says about its caller, and the key that signed it. */
export type AccessTokenFacts = Pick<AccessTokenClaims, 'sub' | 'sid' | 'ver' | 'role'> & { kid: string };

/** A token that passed every check once: its facts, until it expires (ms). */
export interface VerifiedAccessToken {
  facts: AccessTokenFacts;
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
  /** The session's sign-in facts (its `auth_time`, `amr`, `acr` columns). */
  authTime: Date;
  amr: string[];
  acr: Acr;
}

/** A uuid as we issue them (randomUUID / PostgreSQL): lower case only, so that one id has one spelling. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * `Authorization: Bearer <JWS compact>` (RFC 6750 §2.1: `"Bearer" 1*SP b64token`; the
 * scheme is case-insensitive, RFC 7235 §2.1), and nothing else on the line: no second
 * token, no trailing text, no tab. Three non-empty base64url segments.
 */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
/** Far above a real token (~500 characters with ES256, ~700 with RS256); refused before anything is decoded. */
export const MAX_TOKEN_LENGTH = 4096;
/** The one header our signer writes: RFC 9068's, `{ alg, typ: "at+jwt", kid }`. */
const HEADER_KEYS = ['alg', 'typ', 'kid'];
/** Exactly the claims `sign` issues. */
const CLAIM_KEYS = new Set<string>([
  ...(['sub', 'sid', 'ver', 'role', 'iat', 'exp', 'iss', 'aud', 'jti'] satisfies Array<keyof AccessTokenClaims>),
  ...SIGN_IN_CLAIM_KEYS,
]);
/** Clock difference tolerated between the instance that issued a token and this one. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * The access token of a request, or null. Only the Authorization header is read (never a
 * query string, body or cookie), and only when it is sent once: with two, a proxy and
 * this server could disagree on which one counts. What the token holds is `verify`'s
 * business (or the cache's, for a token verified before).
 */
export function bearerTokenOf(request: { headers: Record<string, unknown>; raw?: { rawHeaders?: string[] } }): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH) return null;
  const rawHeaders = request.raw?.rawHeaders;
  if (rawHeaders) {
    let count = 0;
    for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'authorization') count++;
    if (count !== 1) return null;
  }
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * The `alg` and `kid` of a token with exactly the shape we issue, or null, before its
 * signature is even checked: the header is `{ alg, typ: "at+jwt", kid }` and nothing
 * more, so `none`, key-locating headers (`jwk`, `jku`, `x5u`, `x5c`), `crit`, `b64`,
 * `cty` (nested tokens) and other `typ`s (RFC 8725 §3.11, explicit typing) are refused
 * without interpreting them; the kid has the form of ours (a thumbprint) and is only
 * ever a key of an in-memory map; the payload is a JSON object.
 */
function issuedHeader(token: string): { alg: string; kid: string } | null {
  const [rawHeader, rawPayload] = token.split('.');
  const header = parseSegment(rawHeader);
  if (!header) return null;
  const keys = Object.keys(header);
  if (keys.length !== HEADER_KEYS.length || !HEADER_KEYS.every((k) => keys.includes(k))) return null;
  const { alg, typ, kid } = header;
  if (typ !== ACCESS_TOKEN_TYPE || typeof alg !== 'string' || typeof kid !== 'string' || !KID_PATTERN.test(kid)) return null;
  return parseSegment(rawPayload) === null ? null : { alg, kid };
}

/** A base64url segment holding a JSON object, or null. */
function parseSegment(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
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
    const token = sign({ sid: subject.sessionId, ver: subject.tokenVersion, role: subject.role, ...signInClaims(subject) }, key.privateKey, {
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
    const header = issuedHeader(token);
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
    const facts = this.factsOf(payload);
    if (!facts) return { ok: false, reason: new Error('Malformed access token'), malformed: true };
    return { ok: true, token: { facts: { ...facts, kid: key.kid }, expiresAt: (payload as { exp: number }).exp * 1000 } };
  }

  /**
   * The facts of a verified payload, or null. Exactly the claims we issue, each of its
   * exact type and spelling (`iss`/`aud` single strings, ids lower-case uuids); `iat` not
   * in the future and a lifetime no longer than ACCESS_TOKEN_TTL. A token signed with our
   * key that does not look like one we issued is refused, whoever made it.
   */
  factsOf(payload: unknown): Omit<AccessTokenFacts, 'kid'> | null {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
    const p = payload as Record<string, unknown>;
    const keys = Object.keys(p);
    if (keys.length !== CLAIM_KEYS.size || !keys.every((k) => CLAIM_KEYS.has(k))) return null;
    const ids = [p.sub, p.sid, p.jti].every((id) => typeof id === 'string' && UUID.test(id));
    const facts = ids && Number.isSafeInteger(p.ver) && (p.ver as number) >= 0 && (p.role === 'USER' || p.role === 'ADMIN');
    const audience = p.iss === this.issuer && p.aud === this.audience;
    return facts && audience && this.plausibleLifetime(p.iat, p.exp) && validSignInClaims(p)
      ? { sub: p.sub as string, sid: p.sid as string, ver: p.ver as number, role: p.role as Role }
      : null;
  }

  private plausibleLifetime(iat: unknown, exp: unknown): boolean {
    if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return false;
    const [issued, expires] = [iat as number, exp as number];
    return issued <= Math.floor(Date.now() / 1000) + CLOCK_SKEW_SECONDS && expires > issued && expires - issued <= this.ttl;
  }
}

function refused(message: string): Verification {
  return { ok: false, reason: new Error(message) };
}
