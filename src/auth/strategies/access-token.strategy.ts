import { Injectable, UnauthorizedException } from '@nestjs/common';
import type { AuthUser } from '../auth-user';
import { RevocationService } from '../revocation/revocation.service';
import type { Verdict } from '../revocation/revocation-state';
import { bearerTokenOf } from '@nest-auth-backend/token-contract';
import { AccessTokens, type VerifiedAccessToken } from '../tokens/access-token';
import { VerifiedTokens } from '../tokens/verified-tokens';

/** What `bearerTokenOf` reads: Fastify's request (Node's raw request beside it). */
export type BearerRequest = Parameters<typeof bearerTokenOf>[0];

/**
 * Bearer access tokens: the token of the Authorization header (`bearerTokenOf`), verified
 * as `AccessTokens` specifies (the header, the key, its algorithm, `exp`/`iss`/`aud`, the
 * claims) once per instance (`VerifiedTokens`), then the revocation state asked on every
 * request whether the session, the user's tokens or the signing key were revoked since.
 *
 * Not a passport strategy, for three reasons:
 * - passport-jwt cannot put a cache in front of the signature check (its verifier is a
 *   static of its class, `JwtStrategy.JwtVerifier`, called on every request) and takes
 *   one key, where we pin each key's own algorithm;
 * - passport's `authenticate` costs more than the whole check it wraps: per request a
 *   closure, a strategy object with five callbacks, and three promises (the guard's, the
 *   verify callback's, the revocation check's), where a token verified before and a
 *   revocation state that is live answer synchronously: no promise at all;
 * - passport keeps its strategies in one registry per process, so two apps in one process
 *   (tests, a server embedding this one) would verify with whichever registered last.
 * The password sign-in stays on passport-local: it is a once-per-session step where
 * passport's shape fits, and its cost is argon2's.
 */
@Injectable()
export class AccessTokenStrategy {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly verified: VerifiedTokens,
    private readonly revocation: RevocationService,
  ) {}

  /**
   * The caller of a request, or an UnauthorizedException saying why not (never echoing
   * the token). Synchronous while the revocation memory is trusted; a promise only when
   * the database must be asked (RevocationService.check), whose failure (the database is
   * unreachable) is not a verdict on the token and rejects as it is.
   */
  authenticate(request: BearerRequest): AuthUser | Promise<AuthUser> {
    const token = bearerTokenOf(request);
    if (!token) throw new UnauthorizedException(request.headers.authorization === undefined ? 'Missing bearer token' : 'Invalid access token');
    let entry = this.verified.get(token);
    if (!entry) {
      const verification = this.tokens.verify(token);
      if (!verification.ok) {
        // Signed by us, but not claims we issue: the 401 says so, as it always did.
        if (verification.malformed) throw new UnauthorizedException(verification.reason.message);
        // jsonwebtoken's TokenExpiredError is the one reason worth telling apart.
        throw new UnauthorizedException(verification.reason.name === 'TokenExpiredError' ? 'Access token expired' : 'Invalid access token');
      }
      entry = verification.token;
      this.verified.set(token, entry);
    }
    const verified = entry;
    const verdict = this.revocation.check(verified.facts);
    return verdict instanceof Promise ? verdict.then((v) => callerOf(verified, v)) : callerOf(verified, verdict);
  }
}

function callerOf({ facts, authentication }: VerifiedAccessToken, verdict: Verdict): AuthUser {
  if (verdict.revoked) throw new UnauthorizedException('Session has ended');
  // The sign-in facts come from the cached verification: no parsing, no allocation beyond this object.
  return {
    id: facts.sub,
    sessionId: facts.sid,
    role: verdict.role,
    tokenVersion: facts.ver,
    authTime: authentication.auth_time,
    amr: authentication.amr,
    acr: authentication.acr,
  };
}
