import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-jwt';
import type { AuthUser } from '../auth-user';
import { RevocationService } from '../revocation/revocation.service';
import { AccessTokens } from '../tokens/access-token';

/**
 * Bearer access tokens: passport-jwt verifies them as `AccessTokens` specifies (the
 * header, the key, the algorithm, `exp`/`iss`/`aud`); `validate` takes the claims the
 * contract defines and asks the revocation state, in memory, whether the session or the
 * user's tokens were revoked since the token was issued.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly revocation: RevocationService,
  ) {
    super(tokens.verifyOptions());
  }

  async validate(payload: unknown): Promise<AuthUser> {
    const token = this.tokens.factsOf(payload);
    if (!token) throw new UnauthorizedException('Malformed access token');
    const verdict = await this.revocation.check(token);
    if (verdict.revoked) throw new UnauthorizedException('Session has ended');
    return { id: token.sub, sessionId: token.sid, role: verdict.role, tokenVersion: token.ver };
  }
}
