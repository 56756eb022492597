import { randomUUID, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../../config/configuration';
import type { Role } from '../../generated/prisma/client';
import { SERVER_SECRET } from './server-secret';

/** The one signing algorithm. The verifier accepts nothing else (no `none`, no RS/ES confusion). */
export const ACCESS_TOKEN_ALGORITHM = 'HS256' as const;

/** Claims of an access token (API.md, "Tokens"). */
export interface AccessTokenClaims {
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

/** What a verified token says about its caller. */
export type AccessTokenFacts = Pick<AccessTokenClaims, 'sub' | 'sid' | 'ver' | 'role'>;

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  tokenVersion: number;
  role: Role;
}

/** A uuid as we issue them (randomUUID / PostgreSQL): lower case only, so that one id has one spelling. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * `Authorization: Bearer <JWS compact>` (RFC 6750 §2.1: `"Bearer" 1*SP b64token`; the
 * scheme is case-insensitive, RFC 7235 §2.1), and nothing else on the line: no second
 * token, no trailing text, no tab. Three non-empty base64url segments.
 */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
/** Far above a real token (~350 characters); refused before anything is decoded. */
const MAX_TOKEN_LENGTH = 4096;
/** The one header our signer writes (jsonwebtoken: `{ alg, typ }`). */
const HEADER_KEYS = ['alg', 'typ'];
/** Exactly the claims `sign` issues. */
const CLAIM_KEYS = new Set<string>(['sub', 'sid', 'ver', 'role', 'iat', 'exp', 'iss', 'aud', 'jti'] satisfies Array<keyof AccessTokenClaims>);
/** Clock difference tolerated between the instance that issued a token and this one. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * The access token of a request, or null. Only the Authorization header is read (never a
 * query string, body or cookie), and only when it is sent once: with two, a proxy and
 * this server could disagree on which one counts.
 *
 * The token must also have the exact shape we issue before its signature is even
 * checked: the header is `{"alg":"HS256","typ":"JWT"}` and nothing more, so `none`,
 * other algorithms, key-locating headers (`jwk`, `jku`, `x5u`, `x5c`, `kid`), `crit`,
 * `b64`, `cty` (nested tokens) and other `typ`s (RFC 8725 §3.11, explicit typing) are
 * refused without interpreting them; the payload is a JSON object.
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
  const token = BEARER.exec(header)?.[1];
  return token && hasIssuedShape(token) ? token : null;
}

function hasIssuedShape(token: string): boolean {
  const [rawHeader, rawPayload] = token.split('.');
  const header = parseSegment(rawHeader);
  if (!header) return false;
  const keys = Object.keys(header);
  if (keys.length !== HEADER_KEYS.length || header.alg !== ACCESS_TOKEN_ALGORITHM || header.typ !== 'JWT') return false;
  return parseSegment(rawPayload) !== null;
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
 * The access-token contract: what `sign` issues is exactly what `factsOf` accepts. The
 * signature, `exp`, `iss` and `aud` are checked by passport-jwt (jsonwebtoken) with the
 * key and options of `verifyOptions`; `factsOf` then insists on exactly our claims.
 */
@Injectable()
export class AccessTokens {
  readonly ttl: number;
  private readonly issuer: string;
  private readonly audience: string;

  constructor(
    private readonly jwt: JwtService,
    @Inject(SERVER_SECRET) private readonly key: KeyObject,
    config: ConfigService<AppConfig, true>,
  ) {
    ({ accessTokenTtl: this.ttl, issuer: this.issuer, audience: this.audience } = config.get('auth', { infer: true }));
  }

  sign(subject: AccessTokenSubject): string {
    return this.jwt.sign(
      { sid: subject.sessionId, ver: subject.tokenVersion, role: subject.role },
      { subject: subject.userId, jwtid: randomUUID(), expiresIn: this.ttl },
    );
  }

  /** passport-jwt's options: the token from `bearerTokenOf`, exactly HS256 under the `KeyObject`. */
  verifyOptions() {
    return {
      jwtFromRequest: bearerTokenOf,
      // jsonwebtoken accepts a KeyObject (50× faster than a string); passport-jwt's types predate that.
      secretOrKey: this.key as unknown as string,
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: this.issuer,
      audience: this.audience,
      ignoreExpiration: false,
    };
  }

  /**
   * The facts of a verified payload, or null. Exactly the claims we issue, each of its
   * exact type and spelling (`iss`/`aud` single strings, ids lower-case uuids); `iat` not
   * in the future and a lifetime no longer than ACCESS_TOKEN_TTL. A token signed with our
   * key that does not look like one we issued is refused, whoever made it.
   */
  factsOf(payload: unknown): AccessTokenFacts | null {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
    const p = payload as Record<string, unknown>;
    const keys = Object.keys(p);
    if (keys.length !== CLAIM_KEYS.size || !keys.every((k) => CLAIM_KEYS.has(k))) return null;
    const ids = [p.sub, p.sid, p.jti].every((id) => typeof id === 'string' && UUID.test(id));
    const facts = ids && Number.isSafeInteger(p.ver) && (p.ver as number) >= 0 && (p.role === 'USER' || p.role === 'ADMIN');
    const audience = p.iss === this.issuer && p.aud === this.audience;
    return facts && audience && this.plausibleLifetime(p.iat, p.exp)
      ? { sub: p.sub as string, sid: p.sid as string, ver: p.ver as number, role: p.role as Role }
      : null;
  }

  private plausibleLifetime(iat: unknown, exp: unknown): boolean {
    if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return false;
    const [issued, expires] = [iat as number, exp as number];
    return issued <= Math.floor(Date.now() / 1000) + CLOCK_SKEW_SECONDS && expires > issued && expires - issued <= this.ttl;
  }
}
