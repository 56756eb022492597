import { z } from 'zod';
import { isRole, ROLES } from '@nest-auth-backend/token-contract';
import {
  PLACEHOLDER_SECRETS,
  POSTGRES_URL_FORM,
  TRUST_PROXY_FORM,
  bool,
  duration,
  durationMs,
  durationList,
  integer,
  isPostgresUrl,
  isProxyAddress,
  isSmtpUrl,
  oneOf,
  optionalString,
  originList,
  shown,
  SMTP_URL_FORM,
} from './env-fields';
import { ARGON2_DEFAULTS, meetsOwaspMinimum } from './argon2';
import { passwordProblem } from '../users/password-policy';
import { emailProblem, normalizeEmail } from '../users/email';
import { GENERATE_SECRET_HINT, secretStrengthProblem } from './secret-strength';
import { oidcProviders } from './oidc-providers';

/**
 * Every setting the server reads, validated once at boot. A bad value stops the start
 * with one message that names each bad key (see `validateEnv`, which prints
 * `KEY: message`): each message says the form expected and echoes the value given,
 * except for the values that may hold a secret (AUTH_SECRET, ADMIN_PASSWORD, the
 * database URLs), which are never repeated. `.env.example` lists the same keys;
 * docs/operating.md documents them.
 */

/**
 * The shortest SIGNING_KEY_LEAD outside NODE_ENV=test: jose's createRemoteJWKSet refetches a
 * JWKS on an unknown `kid` at most every 30 s (its cooldown). A key that starts signing at
 * least that long after it was published is found by such a verifier whenever it last
 * fetched, so a rotation never costs a relying party a 401.
 */
export const MIN_SIGNING_KEY_LEAD_SECONDS = 30;

/** A server secret: unset, or at least 32 bytes (the value is never repeated). */
const secret = optionalString.refine(
  (v) => v === undefined || Buffer.byteLength(v) >= 32,
  `must be at least 32 bytes from a random generator (the value is not repeated); generate one: ${GENERATE_SECRET_HINT}`,
);

const fields = z.object({
  NODE_ENV: oneOf(['development', 'production', 'test'], 'development'),
  // 0 ("any free port") is refused: clients must know where the server is.
  PORT: integer(3000, { min: 1, max: 65535, expected: 'a port number from 1 to 65535' }),
  HOST: z.string().trim().min(1, 'must be an address or host name to listen on, such as 0.0.0.0 (every interface) or 127.0.0.1').default('0.0.0.0'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  // Unset: GET /metrics is off (404). Set: it needs Authorization: Bearer <METRICS_TOKEN>.
  METRICS_TOKEN: optionalString.refine((v) => v === undefined || Buffer.byteLength(v) >= 16, 'must be at least 16 characters'),
  DATABASE_URL: optionalString.refine((v) => v === undefined || isPostgresUrl(v), POSTGRES_URL_FORM),
  // A direct connection for LISTEN when DATABASE_URL goes through a transaction pooler.
  DATABASE_LISTEN_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .optional(),
  ),
  DATA_DIR: z
    .string()
    .refine((v) => v.trim() !== '', 'must be a directory path, such as ./.data')
    .default('./.data'),
  DATABASE_POOL_SIZE: integer(10, { min: 1, max: 200, expected: 'a whole number of connections from 1 to 200' }),
  // The server secret; JWT_ACCESS_SECRET is its former name, still read.
  AUTH_SECRET: secret,
  JWT_ACCESS_SECRET: secret,
  // The secret AUTH_SECRET replaced, while it rotates: what it encrypted stays readable.
  AUTH_SECRET_PREVIOUS: secret,
  // The server's public base URL (default http://localhost:PORT); the default issuer.
  APP_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
  ),
  // `iss` of access tokens; default APP_URL.
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: z.string().min(1, 'must not be empty: it is the aud claim of every access token').default('nest-auth-backend'),
  // The algorithm of signing keys made from now on (the first one, each rotation).
  JWT_ALGORITHM: oneOf(['ES256', 'RS256'], 'ES256'),
  // How long a new signing key is published before it signs (see the cross-field rules).
  SIGNING_KEY_LEAD: duration('10m'),
  // A new signing key every this long, made by whichever instance finds it due; 0: by hand only.
  SIGNING_KEY_ROTATION: duration('0', { min: 0 }),
  // Revocations are held in memory for one access-token lifetime: the upper bound bounds that memory.
  ACCESS_TOKEN_TTL: duration('15m', {
    whyNotZero: '0 would make every access token expire at once',
    max: { seconds: 86_400, written: '24h', why: 'every instance keeps each revocation in memory for one access-token lifetime' },
  }),
  // A sign-in waiting for its second factor (POST /auth/login/mfa): a few minutes to type a code.
  MFA_TOKEN_TTL: duration('5m', {
    max: { seconds: 3600, written: '1h', why: 'a password that was right stays usable without its second factor for this long' },
  }),
  SESSION_IDLE_TTL: duration('7d'),
  SESSION_ABSOLUTE_TTL: duration('30d'),
  // 0 turns the grace off: any second presentation of a rotated token is reuse.
  REFRESH_REUSE_GRACE: duration('30s', {
    min: 0,
    max: {
      seconds: 300,
      written: '5m',
      why: 'a longer grace defeats reuse detection, since a stolen rotated refresh token replayed within it gets a fresh token instead of ending the session',
    },
  }),
  // Step-up: an account-security route ("recent") wants a sign-in or re-authentication at most this old.
  REAUTH_MAX_AGE: duration('5m', {
    whyNotZero: '0 would refuse every account-security route, even right after a sign-in',
    max: { seconds: 86_400, written: '24h', why: 'a "recent" authentication older than a day is not recent' },
  }),
  // Roles whose routes want a sign-in at aal2 (a second factor): comma-separated, e.g. ADMIN.
  MFA_REQUIRED_ROLES: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const roles = [
        ...new Set(
          v
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
        ),
      ];
      const bad = roles.filter((role) => !isRole(role));
      if (bad.length > 0)
        ctx.addIssue({
          code: 'custom',
          message: `must be roles separated by commas (${ROLES.join(', ')}); ${bad.map(shown).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not`,
        });
      return roles.filter(isRole);
    }),
  ADMIN_EMAIL: optionalString.pipe(z.email({ error: (issue) => `must be an email address, got ${shown(issue.input)}` }).optional()),
  ADMIN_PASSWORD: optionalString,
  RATE_LIMIT_LOGIN: integer(10, { min: 0, expected: 'a whole number of attempts a minute (0 turns the limit off)' }),
  RATE_LIMIT_REFRESH: integer(120, { min: 0, expected: 'a whole number of refreshes a minute (0 turns the limit off)' }),
  // How stale an instance's revocation memory may get before it reads the database instead.
  REVOCATION_MAX_STALENESS: durationMs('1s', { min: 100, max: 60_000 }),
  RATE_LIMIT_REGISTER: integer(10, { min: 0, expected: 'a whole number of registrations a minute (0 turns the limit off)' }),
  // argon2id cost. Below OWASP's minimum only with NODE_ENV=test (see the cross-field rules).
  ARGON2_MEMORY_COST: integer(ARGON2_DEFAULTS.memoryCost, { min: 8, max: 4_194_304, expected: 'a whole number of KiB from 8 to 4194304' }),
  ARGON2_TIME_COST: integer(ARGON2_DEFAULTS.timeCost, { min: 1, max: 100, expected: 'a whole number of passes from 1 to 100' }),
  COOKIE_SECURE: bool(true),
  // Passkeys: the RP ID (default APP_URL's host), the name authenticators show, and the
  // origins whose assertions count (default APP_URL's origin; comma-separated).
  WEBAUTHN_RP_ID: optionalString.pipe(
    z
      .string()
      .regex(
        /^(localhost|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)$/,
        'must be a lower-case domain name without scheme or port, such as example.com',
      )
      .optional(),
  ),
  WEBAUTHN_RP_NAME: optionalString,
  WEBAUTHN_ORIGINS: originList,
  CORS_ORIGINS: originList,
  BODY_LIMIT: integer(16 * 1024, { min: 1024, expected: 'a whole number of bytes, at least 1024' }),
  // Behind a proxy: which X-Forwarded-For hops to believe for the client IP
  // (false, true, a hop count, or addresses/CIDRs separated by commas).
  TRUST_PROXY: z
    .string()
    .trim()
    .default('false')
    .transform((v, ctx): boolean | number | string[] => {
      if (v === '' || v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      const entries = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = entries.filter((entry) => !isProxyAddress(entry));
      if (bad.length === 0) return entries;
      ctx.addIssue({ code: 'custom', message: `${TRUST_PROXY_FORM}; ${bad.map(shown).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not` });
      return z.NEVER;
    }),
  // GET /console, the web console (false: 404).
  CONSOLE_ENABLED: bool(true),
  // false: POST /auth/register answers 403 and the console offers no sign-up.
  REGISTRATION_ENABLED: bool(true),
  // Mail (account recovery, email verification). Unset outside development: mail is off.
  SMTP_URL: optionalString.refine((v) => v === undefined || isSmtpUrl(v), SMTP_URL_FORM),
  // The From of every mail; default no-reply@ the host of APP_URL.
  MAIL_FROM: optionalString.pipe(z.email({ error: (issue) => `must be an email address such as no-reply@example.com, got ${shown(issue.input)}` }).optional()),
  // A directory whose templates replace the shipped ones (mail-templates/), file by file.
  MAIL_TEMPLATES_DIR: optionalString,
  PASSWORD_RESET_TTL: duration('1h', { max: { seconds: 86_400, written: '24h', why: 'a reset link is a password: it must not live for days' } }),
  EMAIL_VERIFICATION_TTL: duration('24h', { max: { seconds: 30 * 86_400, written: '30d', why: 'an unused link should not live for months' } }),
  // An admin's invitation (POST /admin/invitations): its link lives this long.
  INVITATION_TTL: duration('7d', { max: { seconds: 30 * 86_400, written: '30d', why: 'an unused invitation should not live for months' } }),
  REQUIRE_VERIFIED_EMAIL: bool(false),
  // forgot and resend: mails asked for a minute per IP and per email address.
  RATE_LIMIT_MAIL: integer(5, { min: 0, expected: 'a whole number of mail requests a minute (0 turns the limit off)' }),
  // The outbox's delays before each attempt: at once, then backing off; past the last one a delivery has failed.
  OUTBOX_RETRY_SCHEDULE: durationList('0,5s,5m,30m,2h,5h,10h,10h'),
  // true: webhooks and back-channel logout may reach loopback, private and link-local addresses (development, tests).
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool(false),
  // Sign-in with other providers (src/auth/oidc): a JSON array, see src/config/oidc-providers.ts.
  OIDC_PROVIDERS: oidcProviders,
  // The public URL of this server that the providers send the browser back to (…/auth/oidc/<id>/callback);
  // unset: the URL the start request came to (its scheme and host, as TRUST_PROXY lets Fastify see them).
  OIDC_CALLBACK_BASE_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
  ),
});

type RawEnv = z.output<typeof fields>;
type Problem = (key: string, message: string) => void;
interface CrossFieldRule {
  /** The keys the rule reads: it runs only when each of them is valid on its own. */
  reads: Array<keyof RawEnv>;
  check(env: RawEnv, problem: Problem): void;
}
const reading = (reads: Array<keyof RawEnv>, check: CrossFieldRule['check']): CrossFieldRule => ({ reads, check });

/** Rules that read several keys, or the environment the server runs in. */
const CROSS_FIELD_RULES: CrossFieldRule[] = [
  reading(['AUTH_SECRET', 'JWT_ACCESS_SECRET', 'AUTH_SECRET_PREVIOUS'], function oneServerSecret(env, problem) {
    if (env.AUTH_SECRET !== undefined && env.JWT_ACCESS_SECRET !== undefined && env.AUTH_SECRET !== env.JWT_ACCESS_SECRET) {
      problem('AUTH_SECRET', 'and JWT_ACCESS_SECRET (its former name) are both set and differ: keep AUTH_SECRET only');
    }
    if (env.AUTH_SECRET_PREVIOUS !== undefined && env.AUTH_SECRET_PREVIOUS === (env.AUTH_SECRET ?? env.JWT_ACCESS_SECRET)) {
      problem('AUTH_SECRET_PREVIOUS', 'equals the current secret: set it to the secret AUTH_SECRET replaces');
    }
  }),
  reading(['NODE_ENV', 'AUTH_SECRET', 'JWT_ACCESS_SECRET'], function productionSecret(env, problem) {
    if (env.NODE_ENV !== 'production') return;
    const key = env.AUTH_SECRET === undefined && env.JWT_ACCESS_SECRET !== undefined ? 'JWT_ACCESS_SECRET' : 'AUTH_SECRET';
    const value = env[key];
    if (value === undefined) problem(key, 'is required when NODE_ENV=production');
    else if (PLACEHOLDER_SECRETS.has(value)) problem(key, 'is a placeholder; generate a random one');
    else {
      const weakness = secretStrengthProblem(value);
      if (weakness) problem(key, weakness);
    }
  }),
  reading(['NODE_ENV', 'SIGNING_KEY_LEAD'], function signingKeyLead(env, problem) {
    if (env.NODE_ENV === 'test' || env.SIGNING_KEY_LEAD >= MIN_SIGNING_KEY_LEAD_SECONDS) return;
    problem(
      'SIGNING_KEY_LEAD',
      `must be at least ${MIN_SIGNING_KEY_LEAD_SECONDS}s (relying parties refetch the JWKS at most every 30 s); shorter only with NODE_ENV=test`,
    );
  }),
  reading(['SIGNING_KEY_ROTATION', 'SIGNING_KEY_LEAD', 'ACCESS_TOKEN_TTL'], function signingKeyRotation(env, problem) {
    const shortest = env.SIGNING_KEY_LEAD + env.ACCESS_TOKEN_TTL;
    if (env.SIGNING_KEY_ROTATION === 0 || env.SIGNING_KEY_ROTATION >= shortest) return;
    problem(
      'SIGNING_KEY_ROTATION',
      `must be 0 (rotate by hand only) or at least SIGNING_KEY_LEAD + ACCESS_TOKEN_TTL (${shortest} s): each key signs for a while before the next is published, and the JWKS never holds more than three keys`,
    );
  }),
  reading(['NODE_ENV', 'ARGON2_MEMORY_COST', 'ARGON2_TIME_COST'], function argon2Cost(env, problem) {
    if (env.NODE_ENV === 'test' || meetsOwaspMinimum({ memoryCost: env.ARGON2_MEMORY_COST, timeCost: env.ARGON2_TIME_COST })) return;
    problem(
      'ARGON2_MEMORY_COST',
      `with ARGON2_TIME_COST is below OWASP's minimum for argon2id (${ARGON2_DEFAULTS.memoryCost} KiB with 2 passes, or an equivalent pair); cheaper parameters are for NODE_ENV=test only`,
    );
  }),
  reading(['ADMIN_EMAIL', 'ADMIN_PASSWORD'], function firstAdmin(env, problem) {
    if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      problem('ADMIN_PASSWORD', 'ADMIN_EMAIL and ADMIN_PASSWORD go together');
    }
    const emailIssue = env.ADMIN_EMAIL === undefined ? undefined : emailProblem(normalizeEmail(env.ADMIN_EMAIL));
    if (emailIssue) problem('ADMIN_EMAIL', emailIssue);
  }),
  reading(['ADMIN_PASSWORD'], function adminPassword(env, problem) {
    // The rule of every new password, said at start rather than once the database is up.
    const issue = env.ADMIN_PASSWORD === undefined ? undefined : passwordProblem(env.ADMIN_PASSWORD);
    if (issue) problem('ADMIN_PASSWORD', issue);
  }),
  reading(['REQUIRE_VERIFIED_EMAIL', 'SMTP_URL', 'NODE_ENV'], function verificationNeedsMail(env, problem) {
    if (!env.REQUIRE_VERIFIED_EMAIL || env.SMTP_URL !== undefined || env.NODE_ENV === 'development') return;
    problem(
      'REQUIRE_VERIFIED_EMAIL',
      'is true but mail is off, so nobody could verify an address: set SMTP_URL (or run with NODE_ENV=development, where mails are written to DATA_DIR/mail)',
    );
  }),
  reading(['WEBAUTHN_RP_ID', 'WEBAUTHN_ORIGINS', 'APP_URL', 'PORT'], function webauthnOrigins(env, problem) {
    // WebAuthn: a browser refuses an RP ID that is not the page's host or a parent domain of it.
    const appUrl = new URL(env.APP_URL ?? `http://localhost:${env.PORT}`);
    const rpId = env.WEBAUTHN_RP_ID ?? appUrl.hostname;
    const origins = env.WEBAUTHN_ORIGINS.length > 0 ? env.WEBAUTHN_ORIGINS : [appUrl.origin];
    const outside = origins.filter((origin) => {
      const host = new URL(origin).hostname;
      return host !== rpId && !host.endsWith(`.${rpId}`);
    });
    if (outside.length > 0) {
      problem(
        env.WEBAUTHN_ORIGINS.length > 0 ? 'WEBAUTHN_ORIGINS' : 'WEBAUTHN_RP_ID',
        `must name origins on the RP ID ${shown(rpId)} or its subdomains (browsers refuse the others); got ${outside.map(shown).join(', ')}`,
      );
    }
  }),
  reading(['NODE_ENV', 'OIDC_PROVIDERS'], function oidcOverTls(env, problem) {
    if (env.NODE_ENV !== 'production') return;
    for (const p of env.OIDC_PROVIDERS.filter((p) => !p.issuer.startsWith('https://'))) {
      problem('OIDC_PROVIDERS', `provider ${shown(p.id)}: the issuer must be https:// when NODE_ENV=production (http:// is for development and tests)`);
    }
  }),
  reading(['SESSION_IDLE_TTL', 'SESSION_ABSOLUTE_TTL'], function sessionLifetimes(env, problem) {
    if (env.SESSION_IDLE_TTL > env.SESSION_ABSOLUTE_TTL) problem('SESSION_IDLE_TTL', 'must not exceed SESSION_ABSOLUTE_TTL');
  }),
];

export const envSchema = fields.superRefine(
  (env, ctx) => {
    // Each rule runs once the keys it reads are valid on their own, even when other keys
    // are not: one start names every problem, not one more at each attempt.
    const invalid = new Set(ctx.issues.map((issue) => issue.path?.[0]));
    for (const rule of CROSS_FIELD_RULES) {
      if (rule.reads.some((key) => invalid.has(key))) continue;
      rule.check(env, (key, message) => ctx.addIssue({ code: 'custom', path: [key], message }));
    }
  },
  { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
);

export type Env = z.output<typeof envSchema>;
