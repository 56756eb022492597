import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import {
  ACCESS_TOKEN_TYPE,
  accessTokenClaimsOf,
  accessTokenHeaderOf,
  authenticationClaimsOf,
  isCanonicalEs256,
  isRole,
  SIGNING_ALGORITHMS,
  type AccessTokenFacts,
  type Acr,
  type Role,
} from '@nest-auth-backend/token-contract';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { AUTH_CLIENT_OPTIONS, checkAuthClientOptions, type AuthClientOptions } from './options';
import { RefusalLog } from './refusal-log';
import { RevocationFeedClient } from './revocation-feed-client';

/** The caller of a protected route (`@CurrentUser()`). */
export interface AuthenticatedUser {
  /** The user id (`sub`). */
  id: string;
  /** The session the token belongs to (`sid`). */
  sessionId: string;
  /** The user's current role: a change on the auth server applies from the next request. */
  role: Role;
}

/**
 * How the caller's session was authenticated (`request.authInfo`, `@CurrentAuthentication()`),
 * from the token's `auth_time`, `amr` and `acr`; undefined for a token issued before the
 * auth server carried them (such tokens live ACCESS_TOKEN_TTL at most).
 */
export interface Authentication {
  /** Epoch seconds of the session's last sign-in or re-authentication (`auth_time`). */
  authTime: number;
  /** RFC 8176 method references (`amr`): `pwd`, `otp`, `hwk`/`swk`, `user`, `mfa`, `fed`. */
  amr: string[];
  /** `aal1` one factor, `aal2` two (`acr`). */
  acr: Acr;
}

/** What AuthClient decides about a token: who calls, and how they signed in (when the token says). */
export interface Authenticated {
  user: AuthenticatedUser;
  authentication?: Authentication;
}

interface VerifiedToken {
  facts: AccessTokenFacts;
  authentication?: Authentication;
  expiresAt: number;
}
/** Tokens verified once, until they expire; past the bound the oldest go first. */
const MAX_VERIFIED = 10_000;
/** A claim value as a log line shows it: quoted (a newline cannot start a line of its own), and short. */
const shown = (value: unknown): string => (JSON.stringify(value) ?? 'none').slice(0, 200);

/**
 * Decides whether an access token is good, the way the auth server does, without asking
 * it per request: the signature and claims with the JWKS (jose: `iss`, `aud`, `typ:
 * at+jwt`, `exp`), then the revocation window fed by the revocation feed. While the feed
 * cannot vouch for its memory (no heartbeat within the staleness bound) each request is
 * introspected instead; if the auth server cannot answer either, 503: a revoked token is
 * never accepted.
 */
@Injectable()
export class AuthClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuthClient');
  private readonly refusals = new RefusalLog((line) => this.logger.warn(line));
  private readonly jwksUrl: string;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly feed: RevocationFeedClient;
  private readonly serverUrl: string;
  private readonly authorization: string;
  private readonly verified = new Map<string, VerifiedToken>();
  /** Requests answered by introspection (the feed could not vouch for memory). */
  introspections = 0;

  constructor(@Inject(AUTH_CLIENT_OPTIONS) private readonly options: AuthClientOptions) {
    checkAuthClientOptions(options);
    this.serverUrl = (options.serverUrl ?? options.issuer).replace(/\/+$/, '');
    // RFC 6749 §2.3.1: each part form-urlencoded, then Basic.
    const basic = `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`;
    this.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    this.jwksUrl = `${this.serverUrl}/.well-known/jwks.json`;
    this.jwks = createRemoteJWKSet(new URL(this.jwksUrl));
    this.feed = new RevocationFeedClient({
      url: `${this.serverUrl}/auth/revocations`,
      authorization: this.authorization,
      maxStalenessMs: options.maxStalenessMs ?? 1000,
      log: (message) => this.logger.warn(message),
    });
  }

  onModuleInit(): void {
    this.feed.start();
  }

  onModuleDestroy(): void {
    this.feed.stop();
  }

  /** Whether the revocation memory is trusted now (a feed `ready` and a heartbeat within the bound). */
  get live(): boolean {
    return this.feed.isTrusted();
  }

  /** Feed connections opened so far. */
  get feedConnections(): number {
    return this.feed.connects;
  }

  /** The user of a bearer token, or 401 (invalid, expired, revoked) or 503 (cannot tell now). */
  async authenticate(token: string): Promise<AuthenticatedUser> {
    return (await this.check(token)).user;
  }

  /** `authenticate`, with how the user signed in when the token says (AuthGuard's `request.authInfo`). */
  async check(token: string): Promise<Authenticated> {
    const { facts, authentication } = await this.verify(token);
    if (this.feed.isTrusted()) {
      const verdict = this.feed.state.verdict(facts);
      if (verdict.revoked) throw new UnauthorizedException('Session has ended');
      return { user: { id: facts.sub, sessionId: facts.sid, role: verdict.role }, ...(authentication && { authentication }) };
    }
    // What memory knows is revoked stays revoked, trusted or not.
    if (this.feed.state.verdict(facts).revoked) throw new UnauthorizedException('Session has ended');
    return this.introspect(token);
  }

  /**
   * The token's facts, by the token contract (@nest-auth-backend/token-contract) as the
   * auth server applies it, after jose has checked the signature with the JWKS (so that
   * a token of a key the JWKS does not publish is told as such; jose never follows a
   * key-locating header): the header the server writes and nothing more, one spelling
   * of the signature, the claims, except that claims this version does not know are
   * ignored and the lifetime is not checked (it is the server's ACCESS_TOKEN_TTL, which
   * a relying party does not know).
   */
  private async verify(token: string): Promise<VerifiedToken> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > now) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: ACCESS_TOKEN_TYPE,
        algorithms: [...SIGNING_ALGORITHMS],
      }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // The JWKS could not be fetched (a network error has no JOSE code; a bad answer is
      // ERR_JOSE_GENERIC; a slow one ERR_JWKS_TIMEOUT): not a verdict on the token.
      if (typeof code !== 'string' || code === 'ERR_JOSE_GENERIC' || code === 'ERR_JWKS_TIMEOUT') {
        throw new ServiceUnavailableException('Auth server unreachable');
      }
      const problem = this.settingsProblem(error);
      if (problem) this.refusals.refused(problem);
      throw new UnauthorizedException(code === 'ERR_JWT_EXPIRED' ? 'Access token expired' : 'Invalid access token');
    }
    const header = accessTokenHeaderOf(token);
    if (!header) throw new UnauthorizedException('Invalid access token');
    // One spelling per token: the high-s twin of an ES256 signature verifies too, but the auth server never issues it.
    if (header.alg === 'ES256' && !isCanonicalEs256(token)) throw new UnauthorizedException('Invalid access token');
    const claims = accessTokenClaimsOf(payload, { issuer: this.options.issuer, audience: this.options.audience });
    if (!claims) throw new UnauthorizedException('Invalid access token');
    const entry: VerifiedToken = {
      facts: { sub: claims.sub, sid: claims.sid, ver: claims.ver, role: claims.role, kid: header.kid },
      ...(claims.auth_time !== undefined && { authentication: { authTime: claims.auth_time, amr: claims.amr!, acr: claims.acr! } }),
      expiresAt: claims.exp * 1000,
    };
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, entry);
    return entry;
  }

  /**
   * Why jose refused a token, when this service's settings may be the cause: a token of
   * the auth server (its signature verified) with another issuer or audience than the
   * options say, or one signed by a key the JWKS at serverUrl does not publish (another
   * auth server's, a revoked key's, or a forgery: one reason whatever the kid). Never the
   * token. Null for an expired, forged or malformed token: the caller's problem, not ours.
   */
  private settingsProblem(error: unknown): string | null {
    const { code, claim, payload } = error as { code?: unknown; claim?: unknown; payload?: Record<string, unknown> };
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'iss') {
      return `Refused access tokens of issuer ${shown(payload?.iss)}: this service expects issuer ${shown(this.options.issuer)} (the issuer option: the auth server's JWT_ISSUER, by default its APP_URL)`;
    }
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'aud') {
      return `Refused access tokens for audience ${shown(payload?.aud)}: this service expects audience ${shown(this.options.audience)} (the audience option: the auth server's JWT_AUDIENCE)`;
    }
    if (code === 'ERR_JWKS_NO_MATCHING_KEY') {
      return `Refused access tokens signed by a key that ${this.jwksUrl} does not publish: tokens of another auth server (check serverUrl and issuer), of a revoked key, or forged`;
    }
    return null;
  }

  /** RFC 7662 at the auth server: the state of the token now. */
  private async introspect(token: string): Promise<Authenticated> {
    this.introspections++;
    let response: Response;
    try {
      response = await fetch(`${this.serverUrl}/auth/introspect`, {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(this.options.introspectionTimeoutMs ?? 2000),
      });
    } catch {
      throw new ServiceUnavailableException('Auth server unreachable');
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 401) this.logger.error('Introspection refused this service’s client credentials');
      throw new ServiceUnavailableException('Auth server could not check the token');
    }
    const body = (await response.json().catch(() => null)) as
      ({ active?: boolean; sub?: string; sid?: string; role?: unknown } & Record<string, unknown>) | null;
    if (!body?.active) throw new UnauthorizedException('Session has ended');
    const user: AuthenticatedUser = { id: body.sub!, sessionId: body.sid!, role: isRole(body.role) ? body.role : 'USER' };
    // The answer carries the token's authentication claims when the token has them (an older auth server's does not).
    const claims = authenticationClaimsOf(body);
    return claims ? { user, authentication: { authTime: claims.auth_time, amr: claims.amr, acr: claims.acr } } : { user };
  }
}
