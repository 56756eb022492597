import type { KeyObject } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AppConfig } from '../../config/configuration';
import type { AuthUser } from '../auth-user';
import { RevocationService } from '../revocation/revocation.service';
import type { TokenFacts } from '../revocation/revocation-state';
import { ACCESS_TOKEN_KEY } from '../tokens/access-token-key';
import { ACCESS_TOKEN_ALGORITHM } from '../tokens/token.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Bearer access tokens: passport-jwt verifies the signature with the HMAC `KeyObject`,
 * allowing exactly HS256 (so `none`, and RS/ES keys confused for HMAC secrets, fail),
 * and checks `exp`, `nbf`, `iss` and `aud`. Only the Authorization header is read: a
 * token in a query string is never accepted. `validate` then insists on every claim
 * having its type, and asks the revocation state, in memory, whether the session or
 * the user's tokens were revoked since the token was issued.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(ACCESS_TOKEN_KEY) key: KeyObject,
    config: ConfigService<AppConfig, true>,
    private readonly revocation: RevocationService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken accepts a KeyObject; passport-jwt's types predate that.
      secretOrKey: key as unknown as string,
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: config.get('auth.issuer', { infer: true }),
      audience: config.get('auth.audience', { infer: true }),
      ignoreExpiration: false,
    });
  }

  async validate(payload: unknown): Promise<AuthUser> {
    const token = claimsOf(payload);
    if (!token) throw new UnauthorizedException('Malformed access token');
    const verdict = await this.revocation.check(token);
    if (verdict.revoked) throw new UnauthorizedException('Session has ended');
    return { id: token.sub, sessionId: token.sid, role: verdict.role, tokenVersion: token.ver };
  }
}

/** The claims we rely on, each of its exact type, or null. `exp` must be present. */
function claimsOf(payload: unknown): TokenFacts | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  const ok =
    typeof p.sub === 'string' && UUID.test(p.sub) &&
    typeof p.sid === 'string' && UUID.test(p.sid) &&
    Number.isSafeInteger(p.ver) && (p.ver as number) >= 0 &&
    (p.role === 'USER' || p.role === 'ADMIN') &&
    Number.isSafeInteger(p.exp) && Number.isSafeInteger(p.iat) &&
    typeof p.jti === 'string';
  return ok ? { sub: p.sub as string, sid: p.sid as string, ver: p.ver as number, role: p.role as TokenFacts['role'] } : null;
}
