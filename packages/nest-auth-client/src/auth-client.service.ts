import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { isCanonicalEs256, type TokenFacts } from '@nest-auth-backend/revocation-window';
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
  role: 'USER' | 'ADMIN';
}

const ALGORITHMS = ['ES256', 'RS256'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
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
  private readonly verified = new Map<string, { facts: TokenFacts; expiresAt: number }>();
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
    const facts = await this.verify(token);
    if (this.feed.isTrusted()) {
      const verdict = this.feed.state.verdict(facts);
      if (verdict.revoked) throw new UnauthorizedException('Session has ended');
      return { id: facts.sub, sessionId: facts.sid, role: verdict.role };
    }
    // What memory knows is revoked stays revoked, trusted or not.
    if (this.feed.state.verdict(facts).revoked) throw new UnauthorizedException('Session has ended');
    return this.introspect(token);
  }

  private async verify(token: string): Promise<TokenFacts> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > now) return cached.facts;
    let payload: JWTPayload;
    let kid: string | undefined;
    let alg: string | undefined;
    try {
      const result = await jwtVerify(token, this.jwks, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: 'at+jwt',
        algorithms: ALGORITHMS,
        requiredClaims: ['sub', 'sid', 'ver', 'role', 'exp', 'jti'],
      });
      payload = result.payload;
      kid = result.protectedHeader.kid;
      alg = result.protectedHeader.alg;
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
    // One spelling per token: the high-s twin of an ES256 signature verifies too, but the auth server never issues it.
    if (alg === 'ES256' && !isCanonicalEs256(token)) throw new UnauthorizedException('Invalid access token');
    const { sub, sid, ver, role, exp } = payload as Record<string, unknown>;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      !UUID.test(sub) ||
      !UUID.test(sid) ||
      !Number.isSafeInteger(ver) ||
      (role !== 'USER' && role !== 'ADMIN') ||
      !kid
    ) {
      throw new UnauthorizedException('Invalid access token');
    }
    const facts: TokenFacts = { sub, sid, ver: ver as number, role, kid };
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { facts, expiresAt: (exp as number) * 1000 });
    return facts;
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
  private async introspect(token: string): Promise<AuthenticatedUser> {
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
    const body = (await response.json().catch(() => null)) as { active?: boolean; sub?: string; sid?: string; role?: string } | null;
    if (!body?.active) throw new UnauthorizedException('Session has ended');
    return { id: body.sub!, sessionId: body.sid!, role: body.role === 'ADMIN' ? 'ADMIN' : 'USER' };
  }
}
