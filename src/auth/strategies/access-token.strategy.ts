import { UnauthorizedException } from '@nestjs/common';
import { Strategy } from 'passport-strategy';
import { bearerTokenOf } from '@nest-auth-backend/token-contract';
import type { AccessTokenFacts, AccessTokens } from '../tokens/access-token';
import type { VerifiedTokens } from '../tokens/verified-tokens';

/** Passport's verify callback: the facts in, the user (or an error) out. */
export type VerifyFacts = (facts: AccessTokenFacts, done: (error: unknown, user?: unknown, info?: unknown) => void) => void;

/**
 * Bearer access tokens, as passport sees them: the token of the Authorization header
 * (`bearerTokenOf`), verified once per instance (`VerifiedTokens`), then handed to the
 * verify callback (JwtStrategy.validate: the revocation check, on every request).
 *
 * Why not passport-jwt: its strategy calls jsonwebtoken's verify on every request (the
 * verifier is a static of its class, `JwtStrategy.JwtVerifier`, with no hook between the
 * token and the signature check), so no cache can sit in front of it without patching a
 * library global; and it takes one key (or an async key lookup per request), where we
 * pin each key's own algorithm. This strategy is that flow in a few lines, with the
 * cache where it belongs. Missing or invalid tokens `fail` with passport-jwt's kind of
 * info, so JwtAuthGuard answers exactly as before.
 */
export class AccessTokenStrategy extends Strategy {
  name = 'jwt';

  constructor(
    private readonly tokens: AccessTokens,
    private readonly verified: VerifiedTokens,
    private readonly verifyFacts: VerifyFacts,
  ) {
    super();
  }

  override authenticate(request: Parameters<Strategy['authenticate']>[0]): void {
    const token = bearerTokenOf(request);
    if (!token) return this.fail(new Error('No auth token'), 401);
    let entry = this.verified.get(token);
    if (!entry) {
      const verification = this.tokens.verify(token);
      if (!verification.ok) {
        // Signed by us, but not claims we issue: the 401 says so, as it always did.
        if (verification.malformed) return this.error(new UnauthorizedException(verification.reason.message));
        return this.fail(verification.reason, 401);
      }
      entry = verification.token;
      this.verified.set(token, entry);
    }
    this.verifyFacts(entry.facts, (error, user, info) => {
      if (error) return this.error(error as Error);
      if (!user) return this.fail(info, 401);
      this.success(user, info);
    });
  }
}
