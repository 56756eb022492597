import type { Role } from '@nest-auth-backend/token-contract';
import { envSchema, type Env } from './env.schema';
import type { OidcProviderConfig } from './oidc-providers';

/**
 * The validated configuration, one namespace per feature. Read it with
 * `config.get('auth', { infer: true })` on a `ConfigService<AppConfig, true>`.
 */
export interface AppConfig {
  app: {
    env: Env['NODE_ENV'];
    port: number;
    host: string;
    logLevel: Env['LOG_LEVEL'];
    corsOrigins: string[];
    bodyLimit: number;
    /** Unset: GET /metrics is off. */
    metricsToken: string | undefined;
    /** APP_URL: the server's public base URL, without a trailing slash. */
    url: string;
    trustProxy: boolean | number | string[];
    /** CONSOLE_ENABLED: GET /console serves the web console. */
    consoleEnabled: boolean;
  };
  database: {
    /** Unset: the embedded PGlite database in `dataDir`. */
    url: string | undefined;
    /** A direct connection for LISTEN (unset: `url`). */
    listenUrl: string | undefined;
    dataDir: string;
    poolSize: number;
  };
  auth: {
    /** AUTH_SECRET (or its former name JWT_ACCESS_SECRET). Unset outside production: a random secret is created once in DATA_DIR. */
    secret: string | undefined;
    /** AUTH_SECRET_PREVIOUS: the secret being rotated away (decrypts, never encrypts). */
    previousSecret: string | undefined;
    /** `iss` of access tokens: JWT_ISSUER, by default APP_URL. */
    issuer: string;
    audience: string;
    /** JWT_ALGORITHM: the algorithm of signing keys made from now on. */
    algorithm: 'ES256' | 'RS256';
    /** SIGNING_KEY_LEAD: a new key is published this long before it signs (seconds). */
    signingKeyLead: number;
    /** SIGNING_KEY_ROTATION: a new signing key every this long (seconds); 0: by hand only. */
    signingKeyRotation: number;
    /** All durations in seconds. */
    accessTokenTtl: number;
    /** MFA_TOKEN_TTL: how long a sign-in waits for its second factor (seconds). */
    mfaTokenTtl: number;
    sessionIdleTtl: number;
    sessionAbsoluteTtl: number;
    refreshReuseGrace: number;
    /** REVOCATION_MAX_STALENESS, in milliseconds. */
    revocationMaxStalenessMs: number;
    cookieSecure: boolean;
    /** Login attempts a minute per IP and per email; 0 turns the limit off. */
    loginRateLimit: number;
    /** Refreshes a minute per IP; 0 turns the limit off. */
    refreshRateLimit: number;
    /** Registration attempts a minute per IP; 0 turns the limit off. */
    registerRateLimit: number;
    /** argon2id cost of new password hashes (memory in KiB, passes). */
    argon2: { memoryCost: number; timeCost: number };
    admin: { email: string; password: string } | undefined;
    /** REGISTRATION_ENABLED: false refuses POST /auth/register (403). */
    registrationEnabled: boolean;
    /** REAUTH_MAX_AGE (seconds): how old an authentication a "recent" route accepts. */
    reauthMaxAge: number;
    /** MFA_REQUIRED_ROLES: roles whose routes want `acr` aal2. */
    mfaRequiredRoles: Role[];
  };
  recovery: {
    /** Seconds a reset link (PASSWORD_RESET_TTL) and a verification link (EMAIL_VERIFICATION_TTL) live. */
    passwordResetTtl: number;
    emailVerificationTtl: number;
    /** INVITATION_TTL (seconds): how long an invitation's link lives. */
    invitationTtl: number;
    /** REQUIRE_VERIFIED_EMAIL: no session until the address is verified. */
    requireVerifiedEmail: boolean;
    /** forgot and resend a minute per IP and per email; 0 turns the limit off. */
    rateLimit: number;
  };
  mail: {
    /**
     * `smtp`: SMTP_URL is set; `files`: development without SMTP_URL, mails written as .eml
     * files in `DATA_DIR/mail` (and the link logged); `off`: no mail at all.
     */
    mode: 'smtp' | 'files' | 'off';
    smtpUrl: string | undefined;
    from: string;
    /** Templates that replace the shipped ones, file by file (MAIL_TEMPLATES_DIR). */
    templatesDir: string | undefined;
  };
  webauthn: {
    /** WEBAUTHN_RP_ID: the domain passkeys are bound to (default APP_URL's host name). */
    rpId: string;
    /** WEBAUTHN_RP_NAME: the name an authenticator shows (default the RP ID). */
    rpName: string;
    /** WEBAUTHN_ORIGINS: the exact origins whose ceremonies count (default APP_URL's origin). */
    origins: string[];
  };
  outbox: {
    /** OUTBOX_RETRY_SCHEDULE: the delay (ms) before each attempt; its length is the number of attempts. */
    retrySchedule: number[];
    /**
     * WEBHOOK_ALLOW_PRIVATE_NETWORKS: webhooks and back-channel logout may reach loopback,
     * private and link-local addresses (refused by default: SSRF).
     */
    allowPrivateNetworks: boolean;
  };
  oidc: {
    /** OIDC_PROVIDERS: empty, no sign-in with other providers. */
    providers: OidcProviderConfig[];
    /** OIDC_CALLBACK_BASE_URL; unset: the start request's own scheme and host. */
    callbackBaseUrl: string | undefined;
  };
}

export class ConfigValidationError extends Error {}

/** Validates the environment; throws one error naming every bad key. */
export function validateEnv(raw: Record<string, unknown>): AppConfig {
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigValidationError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const env = parsed.data;
  const url = env.APP_URL ?? `http://localhost:${env.PORT}`;
  return {
    app: {
      env: env.NODE_ENV,
      port: env.PORT,
      host: env.HOST,
      logLevel: env.LOG_LEVEL,
      corsOrigins: env.CORS_ORIGINS,
      bodyLimit: env.BODY_LIMIT,
      metricsToken: env.METRICS_TOKEN,
      url,
      trustProxy: env.TRUST_PROXY,
      consoleEnabled: env.CONSOLE_ENABLED,
    },
    database: { url: env.DATABASE_URL, listenUrl: env.DATABASE_LISTEN_URL, dataDir: env.DATA_DIR, poolSize: env.DATABASE_POOL_SIZE },
    auth: {
      secret: env.AUTH_SECRET ?? env.JWT_ACCESS_SECRET,
      previousSecret: env.AUTH_SECRET_PREVIOUS,
      issuer: env.JWT_ISSUER ?? url,
      audience: env.JWT_AUDIENCE,
      algorithm: env.JWT_ALGORITHM,
      signingKeyLead: env.SIGNING_KEY_LEAD,
      signingKeyRotation: env.SIGNING_KEY_ROTATION,
      accessTokenTtl: env.ACCESS_TOKEN_TTL,
      mfaTokenTtl: env.MFA_TOKEN_TTL,
      sessionIdleTtl: env.SESSION_IDLE_TTL,
      sessionAbsoluteTtl: env.SESSION_ABSOLUTE_TTL,
      refreshReuseGrace: env.REFRESH_REUSE_GRACE,
      revocationMaxStalenessMs: env.REVOCATION_MAX_STALENESS,
      cookieSecure: env.COOKIE_SECURE,
      loginRateLimit: env.RATE_LIMIT_LOGIN,
      refreshRateLimit: env.RATE_LIMIT_REFRESH,
      registerRateLimit: env.RATE_LIMIT_REGISTER,
      argon2: { memoryCost: env.ARGON2_MEMORY_COST, timeCost: env.ARGON2_TIME_COST },
      admin: env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD } : undefined,
      registrationEnabled: env.REGISTRATION_ENABLED,
      reauthMaxAge: env.REAUTH_MAX_AGE,
      mfaRequiredRoles: env.MFA_REQUIRED_ROLES,
    },
    recovery: {
      passwordResetTtl: env.PASSWORD_RESET_TTL,
      emailVerificationTtl: env.EMAIL_VERIFICATION_TTL,
      invitationTtl: env.INVITATION_TTL,
      requireVerifiedEmail: env.REQUIRE_VERIFIED_EMAIL,
      rateLimit: env.RATE_LIMIT_MAIL,
    },
    mail: {
      mode: env.SMTP_URL !== undefined ? 'smtp' : env.NODE_ENV === 'development' ? 'files' : 'off',
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM ?? `no-reply@${new URL(url).hostname}`,
      templatesDir: env.MAIL_TEMPLATES_DIR,
    },
    webauthn: {
      rpId: env.WEBAUTHN_RP_ID ?? new URL(url).hostname,
      rpName: env.WEBAUTHN_RP_NAME ?? env.WEBAUTHN_RP_ID ?? new URL(url).hostname,
      origins: env.WEBAUTHN_ORIGINS.length > 0 ? env.WEBAUTHN_ORIGINS : [new URL(url).origin],
    },
    outbox: { retrySchedule: env.OUTBOX_RETRY_SCHEDULE, allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS },
    oidc: { providers: env.OIDC_PROVIDERS, callbackBaseUrl: env.OIDC_CALLBACK_BASE_URL },
  };
}
