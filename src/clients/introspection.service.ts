import { Injectable } from '@nestjs/common';
import { MAX_TOKEN_LENGTH } from '@nest-auth-backend/token-contract';
import { RevocationService } from '../auth/revocation/revocation.service';
import { AccessTokens, type AccessTokenClaims } from '../auth/tokens/access-token';
import { VerifiedTokens } from '../auth/tokens/verified-tokens';

/** RFC 7662's answer. Active: the token's claims, `role` the user's current one. */
export type Introspection = { active: false } | ({ active: true; token_type: 'access_token' } & Omit<AccessTokenClaims, 'ver'>);

const INACTIVE: Introspection = { active: false };

/**
 * POST /auth/introspect: the state of an access token at the moment of the call, as this
 * server would judge it on a request. Verified as every bearer token is (AccessTokens,
 * through the verification cache), then the revocation check of RevocationService, which
 * answers from memory only while memory is certified complete and reads the database
 * otherwise (a database that cannot answer is a 503, never an `active: true`).
 * Everything else (malformed, expired, revoked, not ours) is `{ active: false }`,
 * without saying why (RFC 7662 §2.2).
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly verified: VerifiedTokens,
    private readonly revocation: RevocationService,
  ) {}

  async introspect(token: string): Promise<Introspection> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return INACTIVE;
    let entry = this.verified.get(token);
    if (!entry) {
      const verification = this.tokens.verify(token);
      if (!verification.ok) return INACTIVE;
      entry = verification.token;
      this.verified.set(token, entry);
    }
    const verdict = await this.revocation.check(entry.facts);
    if (verdict.revoked) return INACTIVE;
    // The claims of a token that passed every check (the payload holds exactly these).
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as AccessTokenClaims;
    return {
      active: true,
      sub: claims.sub,
      sid: claims.sid,
      role: verdict.role,
      iat: claims.iat,
      exp: claims.exp,
      iss: claims.iss,
      aud: claims.aud,
      jti: claims.jti,
      auth_time: claims.auth_time,
      amr: claims.amr,
      acr: claims.acr,
      token_type: 'access_token',
    };
  }
}
