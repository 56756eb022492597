import type { KeyObject } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-jwt';
import type { AppConfig } from '../../config/configuration';
import type { AuthUser } from '../auth-user';
import { RevocationService } from '../revocation/revocation.service';
import type { TokenFacts } from '../revocation/revocation-state';
import { ACCESS_TOKEN_KEY } from '../tokens/access-token-key';
import { ACCESS_TOKEN_ALGORITHM } from '../tokens/token.service';

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
/** Exactly the claims TokenService issues (API.md, "Tokens"). */
const CLAIM_KEYS = new Set(['sub', 'sid', 'ver', 'role', 'iat', 'exp', 'iss', 'aud', 'jti']);
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
 * Bearer access tokens: `bearerTokenOf` takes the token from the header and refuses any
 * other shape than ours; passport-jwt verifies the HMAC signature with the `KeyObject`,
 * allowing exactly HS256, and checks `exp`, `nbf`, `iss` and `aud`. `validate` then
 * insists on exactly our claims, each of its type and form, on a plausible `iat` and
 * lifetime, and asks the revocation state, in memory, whether the session or the user's
 * tokens were revoked since the token was issued.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly issuer: string;
  private readonly audience: string;
  private readonly ttl: number;

  constructor(
    @Inject(ACCESS_TOKEN_KEY) key: KeyObject,
    config: ConfigService<AppConfig, true>,
    private readonly revocation: RevocationService,
  ) {
    super({
      jwtFromRequest: bearerTokenOf,
      // jsonwebtoken accepts a KeyObject; passport-jwt's types predate that.
      secretOrKey: key as unknown as string,
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: config.get('auth.issuer', { infer: true }),
      audience: config.get('auth.audience', { infer: true }),
      ignoreExpiration: false,
    });
    this.issuer = config.get('auth.issuer', { infer: true });
    this.audience = config.get('auth.audience', { infer: true });
    this.ttl = config.get('auth.accessTokenTtl', { infer: true });
  }

  async validate(payload: unknown): Promise<AuthUser> {
    const token = this.claimsOf(payload);
    if (!token) throw new UnauthorizedException('Malformed access token');
    const verdict = await this.revocation.check(token);
    if (verdict.revoked) throw new UnauthorizedException('Session has ended');
    return { id: token.sub, sessionId: token.sid, role: verdict.role, tokenVersion: token.ver };
  }

  /**
   * The claims we rely on, or null. Exactly the claims we issue, each of its exact type
   * and spelling (`iss`/`aud` single strings, ids lower-case uuids); `iat` not in the
   * future and a lifetime no longer than ACCESS_TOKEN_TTL. A token signed with our key
   * that does not look like one we issued is refused, whoever made it.
   */
  private claimsOf(payload: unknown): TokenFacts | null {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
    const p = payload as Record<string, unknown>;
    const keys = Object.keys(p);
    if (keys.length !== CLAIM_KEYS.size || !keys.every((k) => CLAIM_KEYS.has(k))) return null;
    const now = Math.floor(Date.now() / 1000);
    const ok =
      typeof p.sub === 'string' && UUID.test(p.sub) &&
      typeof p.sid === 'string' && UUID.test(p.sid) &&
      typeof p.jti === 'string' && UUID.test(p.jti) &&
      Number.isSafeInteger(p.ver) && (p.ver as number) >= 0 &&
      (p.role === 'USER' || p.role === 'ADMIN') &&
      p.iss === this.issuer && p.aud === this.audience &&
      Number.isSafeInteger(p.iat) && Number.isSafeInteger(p.exp) &&
      (p.iat as number) <= now + CLOCK_SKEW_SECONDS &&
      (p.exp as number) > (p.iat as number) &&
      (p.exp as number) - (p.iat as number) <= this.ttl;
    return ok ? { sub: p.sub as string, sid: p.sid as string, ver: p.ver as number, role: p.role as TokenFacts['role'] } : null;
  }
}
