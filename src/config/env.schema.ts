import ms, { type StringValue } from 'ms';
import { z } from 'zod';
import { ARGON2_DEFAULTS, meetsOwaspMinimum } from './argon2';
import { emailProblem, normalizeEmail } from '../users/email';
import { secretStrengthProblem } from './secret-strength';

/**
 * Every setting the server reads, validated once at boot. A bad value stops the start
 * with one message that names each bad key (see `validateEnv`). `.env.example` lists
 * the same keys; the README documents them.
 */

/** Seconds, given as a number of seconds ("900") or an `ms` string ("15m", "7d"). */
const duration = (fallback: string, { allowZero = false } = {}) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((value, ctx) => {
      const millis = /^\d+$/.test(value) ? Number(value) * 1000 : ms(value as StringValue);
      if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 0 || (millis === 0 && !allowZero)) {
        ctx.addIssue({ code: 'custom', message: `must be seconds or a duration like "15m" or "7d", got "${value}"` });
        return z.NEVER;
      }
      return Math.round(millis / 1000);
    });

/** Milliseconds, given as a number of milliseconds ("250") or an `ms` string ("1s", "500ms"). */
const durationMs = (fallback: string, { min, max }: { min: number; max: number }) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((value, ctx) => {
      const millis = /^\d+$/.test(value) ? Number(value) : ms(value as StringValue);
      if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < min || millis > max) {
        ctx.addIssue({ code: 'custom', message: `must be a duration from ${min} ms to ${max / 1000} s, like "1s" or "500ms", got "${value}"` });
        return z.NEVER;
      }
      return Math.round(millis);
    });

/**
 * The shortest SIGNING_KEY_LEAD outside NODE_ENV=test: jose's createRemoteJWKSet refetches a
 * JWKS on an unknown `kid` at most every 30 s (its cooldown). A key that starts signing at
 * least that long after it was published is found by such a verifier whenever it last
 * fetched, so a rotation never costs a relying party a 401.
 */
export const MIN_SIGNING_KEY_LEAD_SECONDS = 30;

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)));

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** A server secret: unset, or at least 32 bytes. */
const secret = optionalString.refine((v) => v === undefined || Buffer.byteLength(v) >= 32, 'must be at least 32 bytes');

/** Secrets shipped in examples: refusing them in production stops a copy-paste deployment. */
const PLACEHOLDER_SECRETS = new Set(['change-me-to-at-least-32-random-bytes-please', 'secret', 'changeme']);

const fields = z.object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
        .optional(),
    ),
    // A direct connection for LISTEN when DATABASE_URL goes through a transaction pooler.
    DATABASE_LISTEN_URL: optionalString.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL').optional()),
    DATA_DIR: z.string().default('./.data'),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
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
    JWT_AUDIENCE: z.string().min(1).default('nest-auth-backend'),
    // The algorithm of signing keys made from now on (the first one, each rotation).
    JWT_ALGORITHM: z.enum(['ES256', 'RS256'], { message: 'must be ES256 or RS256' }).default('ES256'),
    // How long a new signing key is published before it signs (see the cross-field rules).
    SIGNING_KEY_LEAD: duration('10m'),
    ACCESS_TOKEN_TTL: duration('15m'),
    SESSION_IDLE_TTL: duration('7d'),
    SESSION_ABSOLUTE_TTL: duration('30d'),
    // 0 turns the grace off: any second presentation of a rotated token is reuse.
    REFRESH_REUSE_GRACE: duration('30s', { allowZero: true }),
    ADMIN_EMAIL: optionalString.pipe(z.email('must be an email address').optional()),
    ADMIN_PASSWORD: optionalString,
    RATE_LIMIT_LOGIN: z.coerce.number().int().min(0).default(10),
    RATE_LIMIT_REFRESH: z.coerce.number().int().min(0).default(120),
    // How stale an instance's revocation memory may get before it reads the database instead.
    REVOCATION_MAX_STALENESS: durationMs('1s', { min: 100, max: 60_000 }),
    RATE_LIMIT_REGISTER: z.coerce.number().int().min(0).default(10),
    // argon2id cost. Below OWASP's minimum only with NODE_ENV=test (see the cross-field rules).
    ARGON2_MEMORY_COST: z.coerce.number().int().min(8).max(4_194_304).default(ARGON2_DEFAULTS.memoryCost),
    ARGON2_TIME_COST: z.coerce.number().int().min(1).max(100).default(ARGON2_DEFAULTS.timeCost),
    COOKIE_SECURE: bool(true),
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    BODY_LIMIT: z.coerce.number().int().min(1024).default(16 * 1024),
    // Behind a proxy: which X-Forwarded-For hops to believe for the client IP
    // (false, true, a hop count, or addresses/CIDRs separated by commas).
    TRUST_PROXY: z
      .string()
      .trim()
      .default('false')
      .transform((v): boolean | number | string[] =>
        v === '' || v === 'false' ? false : v === 'true' ? true : /^\d+$/.test(v) ? Number(v) : v.split(',').map((s) => s.trim()),
      ),
});

type RawEnv = z.output<typeof fields>;
type Problem = (key: string, message: string) => void;

/** Rules that read several keys, or the environment the server runs in. */
const CROSS_FIELD_RULES: Array<(env: RawEnv, problem: Problem) => void> = [
  function oneServerSecret(env, problem) {
    if (env.AUTH_SECRET !== undefined && env.JWT_ACCESS_SECRET !== undefined && env.AUTH_SECRET !== env.JWT_ACCESS_SECRET) {
      problem('AUTH_SECRET', 'and JWT_ACCESS_SECRET (its former name) are both set and differ: keep AUTH_SECRET only');
    }
    if (env.AUTH_SECRET_PREVIOUS !== undefined && env.AUTH_SECRET_PREVIOUS === (env.AUTH_SECRET ?? env.JWT_ACCESS_SECRET)) {
      problem('AUTH_SECRET_PREVIOUS', 'equals the current secret: set it to the secret AUTH_SECRET replaces');
    }
  },
  function productionSecret(env, problem) {
    if (env.NODE_ENV !== 'production') return;
    const key = env.AUTH_SECRET === undefined && env.JWT_ACCESS_SECRET !== undefined ? 'JWT_ACCESS_SECRET' : 'AUTH_SECRET';
    const secret = env[key];
    if (secret === undefined) problem(key, 'is required when NODE_ENV=production');
    else if (PLACEHOLDER_SECRETS.has(secret)) problem(key, 'is a placeholder; generate a random one');
    else {
      const weakness = secretStrengthProblem(secret);
      if (weakness) problem(key, weakness);
    }
  },
  function signingKeyLead(env, problem) {
    if (env.NODE_ENV === 'test' || env.SIGNING_KEY_LEAD >= MIN_SIGNING_KEY_LEAD_SECONDS) return;
    problem(
      'SIGNING_KEY_LEAD',
      `must be at least ${MIN_SIGNING_KEY_LEAD_SECONDS}s (relying parties refetch the JWKS at most every 30 s); shorter only with NODE_ENV=test`,
    );
  },
  function argon2Cost(env, problem) {
    if (env.NODE_ENV === 'test' || meetsOwaspMinimum({ memoryCost: env.ARGON2_MEMORY_COST, timeCost: env.ARGON2_TIME_COST })) return;
    problem(
      'ARGON2_MEMORY_COST',
      `with ARGON2_TIME_COST is below OWASP's minimum for argon2id (${ARGON2_DEFAULTS.memoryCost} KiB with 2 passes, or an equivalent pair); cheaper parameters are for NODE_ENV=test only`,
    );
  },
  function firstAdmin(env, problem) {
    if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      problem('ADMIN_PASSWORD', 'ADMIN_EMAIL and ADMIN_PASSWORD go together');
    }
    const emailIssue = env.ADMIN_EMAIL === undefined ? undefined : emailProblem(normalizeEmail(env.ADMIN_EMAIL));
    if (emailIssue) problem('ADMIN_EMAIL', emailIssue);
  },
  function sessionLifetimes(env, problem) {
    if (env.SESSION_IDLE_TTL > env.SESSION_ABSOLUTE_TTL) problem('SESSION_IDLE_TTL', 'must not exceed SESSION_ABSOLUTE_TTL');
  },
];

export const envSchema = fields.superRefine((env, ctx) => {
  // Cross-field rules: they run once every key is valid on its own.
  for (const rule of CROSS_FIELD_RULES) rule(env, (key, message) => ctx.addIssue({ code: 'custom', path: [key], message }));
});

export type Env = z.output<typeof envSchema>;
