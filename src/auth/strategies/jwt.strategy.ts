import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { AuthUser } from '../auth-user';
import { RevocationService } from '../revocation/revocation.service';
import { AccessTokens, type AccessTokenFacts } from '../tokens/access-token';
import { VerifiedTokens } from '../tokens/verified-tokens';
import { AccessTokenStrategy } from './access-token.strategy';

/**
 * Bearer access tokens: AccessTokenStrategy verifies them as `AccessTokens` specifies
 * (the header, the key, its algorithm, `exp`/`iss`/`aud`, the claims), once per
 * instance; `validate` then asks the revocation state, in memory, on every request,
 * whether the session, the user's tokens or the signing key were revoked since.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(AccessTokenStrategy, 'jwt') {
  constructor(
    tokens: AccessTokens,
    verified: VerifiedTokens,
    private readonly revocation: RevocationService,
  ) {
    super(tokens, verified);
  }

  async validate(token: AccessTokenFacts): Promise<AuthUser> {
    const verdict = await this.revocation.check(token);
    if (verdict.revoked) throw new UnauthorizedException('Session has ended');
    return { id: token.sub, sessionId: token.sid, role: verdict.role, tokenVersion: token.ver };
  }
}
