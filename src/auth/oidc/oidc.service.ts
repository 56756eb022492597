import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import type { OidcProviderConfig } from '../../config/oidc-providers';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import { MailService } from '../../mail/mail.service';
import { normalizeEmail } from '../../users/email';
import { isEmailTaken, UsersRepository } from '../../users/users.repository';
import type { AuthUser } from '../auth-user';
import { AuthService, type TokenGrant } from '../auth.service';
import { SessionsRepository } from '../sessions/sessions.repository';
import { credentialStamp } from '../sign-in/sign-in-facts';
import { SignInMethods } from '../sign-in/sign-in-methods';
import { FlowCookies, type OidcFlow } from './flow-cookie';
import { IdentitiesRepository, isIdentityTaken } from './identities.repository';
import { OidcFailure } from './oidc-errors';
import { federatedFacts, providerDidMfa } from './oidc.method';
import { OidcProviders } from './oidc-providers';
import { RedirectTargets, withFragment } from './redirect-targets';
import type { IdentityDto } from './oidc.dto';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    'identity.linked': true;
    'identity.unlinked': true;
  }
}

export const UNKNOWN_PROVIDER = 'Unknown provider';
export const REDIRECT_NOT_ALLOWED = 'redirect must be a path (one leading /) or a URL whose origin is APP_URL or one of CORS_ORIGINS';
export const NO_MATCHING_FLOW = 'No sign-in with this provider is in progress in this browser for this state';
export const PROVIDER_UNAVAILABLE = 'The provider cannot be reached now; try again later';
export const IDENTITY_NOT_FOUND = 'Identity not found';
export const LAST_WAY_TO_SIGN_IN = 'This is the last way to sign in to the account: set a password (a reset link) or link another provider first';

/** What the provider said about the person, verified (the ID token, and userinfo for a missing email). */
export interface ProvenIdentity {
  issuer: string;
  subject: string;
  /** Normal form (users/email.ts), or null when the provider gave none. */
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** The ID token says the provider did multi-factor authentication. */
  mfa: boolean;
}

/** Where the callback sends the browser, and the session to put in its refresh cookie when it signed in. */
export interface CallbackOutcome {
  location: string;
  grant?: TokenGrant;
}

/** Where start sends the browser, and the flow cookie to set (none when it goes straight back with an error). */
export interface StartOutcome {
  location: string;
  flowCookie?: string;
}

/**
 * Sign-in with other providers (API.md, "Sign-in with other providers (OpenID Connect)"):
 * the authorization code flow with PKCE, state and nonce bound to the browser (the flow
 * cookie), the response and ID token verified by openid-client (RFC 9207 `iss` when the
 * provider advertises it; signature against its JWKS; nonce; PKCE at its token endpoint),
 * then the linking rules, then the same sign-in pipeline as a password. Accounts are
 * linked on (issuer, sub), never on an email alone.
 */
@Injectable()
export class OidcService {
  private readonly logger = new Logger('OidcSignIn');
  private readonly callbackBase: string | undefined;
  private readonly registrationEnabled: boolean;
  private readonly requireVerifiedEmail: boolean;

  constructor(
    private readonly prisma: PrismaService,
    private readonly providers: OidcProviders,
    private readonly cookies: FlowCookies,
    private readonly targets: RedirectTargets,
    private readonly identities: IdentitiesRepository,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly auth: AuthService,
    private readonly methods: SignInMethods,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.callbackBase = config.get('oidc.callbackBaseUrl', { infer: true });
    this.registrationEnabled = config.get('auth.registrationEnabled', { infer: true });
    this.requireVerifiedEmail = config.get('recovery.requireVerifiedEmail', { infer: true });
  }

  /** GET /auth/oidc/:provider/start: to the provider, or straight back with `#error=provider_unavailable`. */
  async start(providerId: string, redirect: unknown, request: FastifyRequest): Promise<StartOutcome> {
    const provider = this.provider(providerId);
    const target = this.targets.check(redirect);
    if (!target) throw new BadRequestException([REDIRECT_NOT_ALLOWED]);
    const begun = await this.begin(provider, target, request, { mode: 'sign-in' });
    if (begun) return begun;
    return { location: withFragment(target, { error: 'provider_unavailable' }) };
  }

  /** POST /auth/oidc/:provider/link: the provider's URL, and the flow cookie (bound to this browser) that links its answer to `me`. */
  async link(providerId: string, redirect: unknown, me: AuthUser, request: FastifyRequest): Promise<StartOutcome & { flowCookie: string }> {
    const provider = this.provider(providerId);
    const target = this.targets.check(redirect ?? '/');
    if (!target) throw new BadRequestException([REDIRECT_NOT_ALLOWED]);
    const begun = await this.begin(provider, target, request, { mode: 'link', userId: me.id, sessionId: me.sessionId });
    if (!begun) throw new ServiceUnavailableException(PROVIDER_UNAVAILABLE);
    return begun;
  }

  /**
   * GET /auth/oidc/:provider/callback. Without a flow cookie of this provider whose state
   * is the one given: 400 (nothing says where to send the browser, and it is not this
   * browser's flow). Otherwise always a redirect: signed in, the second step, linked, or
   * `#error=<code>` with one log line saying which failure.
   */
  async callback(providerId: string, query: Record<string, unknown>, flowCookie: string | undefined, client: ClientMeta): Promise<CallbackOutcome> {
    const provider = this.provider(providerId);
    const flow = await this.cookies.open(flowCookie);
    if (!flow || flow.provider !== provider.id || typeof query.state !== 'string' || query.state !== flow.state) {
      this.logger.warn(
        `Sign-in with ${provider.id} refused (400): ${!flow || flow.provider !== provider.id ? 'no flow cookie for this provider' : 'the state does not match the flow cookie'}`,
      );
      throw new BadRequestException(NO_MATCHING_FLOW);
    }
    try {
      if (flow.expiresAt < Date.now() / 1000) throw new OidcFailure('expired', 'the flow cookie is older than its 10 minutes');
      if (typeof query.error === 'string') {
        throw new OidcFailure(query.error === 'access_denied' ? 'access_denied' : 'provider_error', `the provider answered error=${query.error.slice(0, 64)}`);
      }
      const identity = await this.verify(provider, flow, query);
      return flow.mode === 'link' ? await this.linkTo(provider, flow, identity, client) : await this.signIn(provider, flow, identity, client);
    } catch (error) {
      const failure = asFailure(error);
      if (!failure) throw error;
      this.logger.warn(`Sign-in with ${provider.id} failed: ${failure.code} (${failure.why})`);
      return { location: withFragment(flow.redirect, { error: failure.code }) };
    }
  }

  /** GET /auth/identities. */
  async list(me: AuthUser): Promise<IdentityDto[]> {
    const rows = await this.identities.listOf(me.id);
    return rows.map((row) => ({ id: row.id, provider: row.provider, email: row.email, createdAt: row.createdAt.toISOString() }));
  }

  /**
   * DELETE /auth/identities/:id. The identity goes, then every sign-in method is asked
   * whether the account can still sign in (a password, another provider, a passkey): if
   * none can, 409 and nothing changed. The user's row is locked, so that two removals at
   * once cannot each leave the other as the last way in and both succeed.
   */
  async unlink(me: AuthUser, id: string, client: ClientMeta): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      if (!(await this.users.lockAccess(tx, me.id))) throw new NotFoundException(IDENTITY_NOT_FOUND);
      const removed = await this.identities.remove(tx, me.id, id);
      if (!removed) throw new NotFoundException(IDENTITY_NOT_FOUND);
      if (!(await this.canStillSignIn(tx, me.id))) throw new ConflictException(LAST_WAY_TO_SIGN_IN);
      await this.audit.record(tx, {
        type: 'identity.unlinked',
        userId: me.id,
        actorId: me.id,
        sessionId: me.sessionId,
        client,
        data: { identityId: removed.id, provider: removed.provider, issuer: removed.issuer },
      });
      await this.notify(tx, me.id, `Signing in with ${this.providers.get(removed.provider)?.name ?? removed.provider} was removed from your account.`);
    });
  }

  private provider(id: string): OidcProviderConfig {
    const provider = this.providers.get(id);
    if (!provider) throw new NotFoundException(UNKNOWN_PROVIDER);
    return provider;
  }

  /** The authorization URL and the sealed flow; null when the provider cannot be discovered (logged). */
  private async begin(
    provider: OidcProviderConfig,
    redirect: string,
    request: FastifyRequest,
    mode: Pick<OidcFlow, 'mode' | 'userId' | 'sessionId'>,
  ): Promise<(StartOutcome & { flowCookie: string }) | null> {
    let configuration: client.Configuration;
    try {
      configuration = await this.providers.configuration(provider);
    } catch (error) {
      this.logger.warn(`Sign-in with ${provider.id} failed: provider_unavailable (discovery: ${describe(error)})`);
      return null;
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const redirectUri = `${this.callbackBase ?? `${request.protocol}://${request.host}`}/auth/oidc/${provider.id}/callback`;
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: provider.scopes.join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const flowCookie = await this.cookies.seal({ provider: provider.id, state, nonce, verifier, redirect, redirectUri, ...mode });
    return { location: url.href, flowCookie };
  }

  /** The code exchanged and everything verified; what the provider says about the person. */
  private async verify(provider: OidcProviderConfig, flow: OidcFlow, query: Record<string, unknown>): Promise<ProvenIdentity> {
    const configuration = await this.providers.configuration(provider).catch((error: unknown) => {
      throw new OidcFailure('provider_unavailable', `discovery: ${describe(error)}`);
    });
    // The URL the provider sent the browser to, as openid-client reads it (code, state, iss…).
    const current = new URL(flow.redirectUri);
    for (const [key, value] of Object.entries(query)) if (typeof value === 'string') current.searchParams.set(key, value);
    const tokens = await client
      .authorizationCodeGrant(configuration, current, {
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        pkceCodeVerifier: flow.verifier,
        idTokenExpected: true,
      })
      .catch((error: unknown) => {
        throw classify(error, 'token');
      });
    const idToken = tokens.claims();
    if (!idToken) throw new OidcFailure('invalid_response', 'no ID token');
    let claims: Record<string, unknown> = idToken;
    // Some providers put the email in the userinfo answer only.
    if (idToken.email === undefined && configuration.serverMetadata().userinfo_endpoint) {
      const info = await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub).catch((error: unknown) => {
        throw classify(error, 'userinfo');
      });
      claims = { ...info, ...idToken, email: info.email, email_verified: info.email_verified };
    }
    const email = typeof claims.email === 'string' && claims.email.includes('@') ? normalizeEmail(claims.email) : null;
    return {
      issuer: idToken.iss,
      subject: idToken.sub,
      email,
      // Some providers send the string "true".
      emailVerified: email !== null && (claims.email_verified === true || claims.email_verified === 'true'),
      name: typeof claims.name === 'string' ? claims.name.trim().slice(0, 100) || null : null,
      mfa: providerDidMfa(idToken),
    };
  }

  /**
   * The linking rules (API.md): a linked (issuer, sub) signs its user in; an unknown one
   * with an email no account holds makes an account (registration open); an email an
   * account holds is linked only when the provider says email_verified and the account's
   * email is verified, otherwise `account_exists` (the person links from the account).
   */
  private async signIn(provider: OidcProviderConfig, flow: OidcFlow, identity: ProvenIdentity, client: ClientMeta): Promise<CallbackOutcome> {
    const userId = await this.resolve(provider, identity, client);
    const user = await this.prisma.$transaction((tx) => this.users.findById(tx, userId));
    if (!user) throw new OidcFailure('sign_in_failed', 'the account is gone');
    if (user.disabled) throw new OidcFailure('account_disabled', 'the account is disabled');
    if (this.requireVerifiedEmail && !user.emailVerified) throw new OidcFailure('email_not_verified', 'REQUIRE_VERIFIED_EMAIL and the account is not verified');
    const facts = { userId, ...federatedFacts(identity.mfa), credential: credentialStamp(user) };
    const outcome = await this.auth.login(facts, client, { provider: provider.id, amr: facts.amr });
    if ('mfaRequired' in outcome) return { location: withFragment(flow.redirect, { mfaToken: outcome.mfaToken, methods: outcome.methods.join(',') }) };
    return { location: flow.redirect, grant: outcome };
  }

  /** The user this identity signs in to: linked already, linked now by the rules, or a new account. */
  private async resolve(provider: OidcProviderConfig, identity: ProvenIdentity, client: ClientMeta): Promise<string> {
    const linked = await this.prisma.$transaction((tx) => this.identities.findBySubject(tx, identity.issuer, identity.subject));
    if (linked) return linked.userId;
    if (!identity.email) throw new OidcFailure('email_missing', 'an unknown identity without an email');
    const holder = await this.users.findByEmail(identity.email);
    if (holder) {
      // The one place an email leads to an account: both sides must have proven it.
      if (!identity.emailVerified || !holder.emailVerified) {
        throw new OidcFailure('account_exists', `the email is an account's and ${identity.emailVerified ? "the account's" : "the provider's"} is not verified`);
      }
      return this.attach(holder.id, provider, identity, client, 'verified_email', null);
    }
    if (!this.registrationEnabled) throw new OidcFailure('registration_closed', 'REGISTRATION_ENABLED=false');
    if (this.requireVerifiedEmail && !identity.emailVerified)
      throw new OidcFailure('email_not_verified', 'REQUIRE_VERIFIED_EMAIL and the provider has not verified the email');
    try {
      return await this.prisma.$transaction(async (tx) => {
        const user = await this.users.create(tx, { email: identity.email!, passwordHash: null, name: identity.name, emailVerified: identity.emailVerified });
        await this.audit.record(tx, { type: 'user.registered', userId: user.id, client, data: { provider: provider.id } });
        await this.linkIn(tx, user.id, provider, identity, client, 'registered', null);
        return user.id;
      });
    } catch (error) {
      // Another request made the account, or linked the identity, meanwhile: decide again from the start.
      if (isEmailTaken(error) || isIdentityTaken(error)) return this.settled(identity, 'account_exists');
      throw error;
    }
  }

  /** Links the identity to `userId` in a transaction of its own; a concurrent link of the same identity wins. */
  private async attach(
    userId: string,
    provider: OidcProviderConfig,
    identity: ProvenIdentity,
    client: ClientMeta,
    via: string,
    sessionId: string | null,
  ): Promise<string> {
    try {
      await this.prisma.$transaction((tx) => this.linkIn(tx, userId, provider, identity, client, via, sessionId));
      return userId;
    } catch (error) {
      if (isIdentityTaken(error)) return this.settled(identity, 'identity_in_use');
      throw error;
    }
  }

  /** After a unique violation: the user the identity is linked to now, or the failure. */
  private async settled(identity: ProvenIdentity, otherwise: 'account_exists' | 'identity_in_use'): Promise<string> {
    const linked = await this.prisma.$transaction((tx) => this.identities.findBySubject(tx, identity.issuer, identity.subject));
    if (linked) return linked.userId;
    throw new OidcFailure(otherwise, 'a concurrent sign-in took the email');
  }

  private async linkIn(
    tx: Tx,
    userId: string,
    provider: OidcProviderConfig,
    identity: ProvenIdentity,
    client: ClientMeta,
    via: string,
    sessionId: string | null,
  ): Promise<void> {
    const row = await this.identities.create(tx, {
      userId,
      provider: provider.id,
      issuer: identity.issuer,
      subject: identity.subject,
      email: identity.email,
      emailVerified: identity.emailVerified,
    });
    await this.audit.record(tx, {
      type: 'identity.linked',
      userId,
      actorId: userId,
      sessionId,
      client,
      data: { identityId: row.id, provider: provider.id, issuer: identity.issuer, via },
    });
    if (via !== 'registered') await this.notify(tx, userId, `Signing in with ${provider.name} was added to your account.`);
  }

  /** Link mode: the identity goes to the signed-in account that asked, if its session still lives. */
  private async linkTo(provider: OidcProviderConfig, flow: OidcFlow, identity: ProvenIdentity, client: ClientMeta): Promise<CallbackOutcome> {
    const authority = flow.sessionId ? await this.sessions.authority(flow.sessionId) : null;
    if (!authority || authority.ended || authority.userId !== flow.userId)
      throw new OidcFailure('session_ended', 'the session that asked for the link has ended');
    const linked = await this.prisma.$transaction((tx) => this.identities.findBySubject(tx, identity.issuer, identity.subject));
    if (linked && linked.userId !== flow.userId) throw new OidcFailure('identity_in_use', 'this identity is linked to another account');
    if (!linked && (await this.attach(flow.userId, provider, identity, client, 'session', flow.sessionId!)) !== flow.userId) {
      throw new OidcFailure('identity_in_use', 'a concurrent sign-in linked this identity to another account');
    }
    return { location: withFragment(flow.redirect, { linked: provider.id }) };
  }

  private async canStillSignIn(tx: Tx, userId: string): Promise<boolean> {
    for (const method of this.methods.all()) if (method.signsInAlone && (await method.signsInAlone(tx, userId))) return true;
    return false;
  }

  /** Mails the account's owner a security notice, in `tx` (sent only if the change commits). */
  private async notify(tx: Tx, userId: string, what: string): Promise<void> {
    const email = await this.users.emailOf(tx, userId);
    if (email) await this.mail.notify(tx, email, what);
  }
}

/** The failure an error of the flow is, or null for one that is not the flow's (the database: answered as everywhere). */
function asFailure(error: unknown): OidcFailure | null {
  if (error instanceof OidcFailure) return error;
  // The pipeline's refusals (the account changed meanwhile, a level it cannot reach): answered in the fragment too.
  if (error instanceof HttpException && (error.getStatus() === 401 || error instanceof ForbiddenException))
    return new OidcFailure('sign_in_failed', error.message);
  return null;
}

/** openid-client's errors: the provider out of reach, or an answer that failed verification. */
function classify(thrown: unknown, step: string): OidcFailure {
  // openid-client wraps what it did not expect (a connection refused, among others) as "something went wrong".
  const error = thrown instanceof client.ClientError && thrown.code === undefined && thrown.cause !== undefined ? thrown.cause : thrown;
  const why = `${step}: ${describe(error)}`;
  const { name, message, code } = fieldsOf(error);
  // By name, not instanceof: fetch's errors may come from another realm (a test runner's sandbox).
  if ((name === 'TypeError' && message === 'fetch failed') || name === 'TimeoutError' || name === 'AbortError')
    return new OidcFailure('provider_unavailable', why);
  if (error instanceof client.ResponseBodyError && error.status >= 500) return new OidcFailure('provider_unavailable', why);
  if (code && UNAVAILABLE_CODES.has(code)) return new OidcFailure('provider_unavailable', why);
  return new OidcFailure('invalid_response', why);
}

/** openid-client's codes for a provider that answered nothing usable: a timeout, an error page, not JSON. */
const UNAVAILABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);

function fieldsOf(error: unknown): { name?: string; message?: string; code?: string; cause?: unknown } {
  if (typeof error !== 'object' || error === null) return {};
  const { name, message, code, cause } = error as Record<string, unknown>;
  return {
    name: typeof name === 'string' ? name : undefined,
    message: typeof message === 'string' ? message : undefined,
    code: typeof code === 'string' ? code : undefined,
    cause,
  };
}

/** An error in one line for the log: its class, its code, the provider's error code, its cause; never a body, a token or a secret. */
function describe(error: unknown): string {
  const { name, message, code, cause } = fieldsOf(error);
  if (!name) return 'unknown error';
  const oauthError = error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError ? ` error=${error.error}` : '';
  const because = fieldsOf(cause).message;
  return `${name}${code ? ` ${code}` : ''}: ${message ?? ''}${oauthError}${because ? ` (${because})` : ''}`.slice(0, 300);
}
