import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { sign } from 'jsonwebtoken';
import type { AppConfig } from '../../config/configuration';
import { SigningKeys } from '../keys/signing-keys.service';

/** OpenID Connect Back-Channel Logout 1.0, §2.4: the `typ` of a logout token. */
export const LOGOUT_TOKEN_TYPE = 'logout+jwt';
/** §2.4: the one member `events` must have. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** API.md: a logout token is good for 2 minutes from its signing. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;

export interface LogoutTokenSubject {
  /** The client the token is for (`aud`). */
  clientId: string;
  /** The user whose session(s) ended. */
  sub: string;
  /** The session that ended; absent when all of the user's sessions did. */
  sid?: string;
  /** One per logout event, the same on every attempt (receivers detect replays by it). */
  jti: string;
}

/**
 * Logout tokens (API.md, "Webhooks and back-channel logout"): signed with the current
 * signing key, like access tokens, so a client verifies them against the same JWKS;
 * `typ: logout+jwt` (an access token can never pass for one, nor one for an access token:
 * each side checks `typ`), `iss`, `aud`, `iat`, `exp` (2 minutes), `jti`, `events`, `sub`,
 * `sid` when one session ended. Never a `nonce` (§2.4 forbids it). Signed afresh at each
 * attempt, so a retry hours later still carries a valid `exp`.
 */
@Injectable()
export class LogoutTokens {
  private readonly issuer: string;

  constructor(
    private readonly keys: SigningKeys,
    config: ConfigService<AppConfig, true>,
  ) {
    this.issuer = config.get('auth.issuer', { infer: true });
  }

  sign({ clientId, sub, sid, jti }: LogoutTokenSubject): string {
    const key = this.keys.signingKey();
    return sign({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...(sid !== undefined && { sid }) }, key.privateKey, {
      algorithm: key.algorithm,
      keyid: key.kid,
      header: { alg: key.algorithm, typ: LOGOUT_TOKEN_TYPE },
      issuer: this.issuer,
      audience: clientId,
      subject: sub,
      jwtid: jti,
      expiresIn: LOGOUT_TOKEN_TTL_SECONDS,
    });
  }
}
