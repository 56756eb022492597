import ms, { type StringValue } from 'ms';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The kinds of value a setting can have, each with its message: the form expected and the
 * value given (env.schema.ts uses them for every key).
 */

/** A value as the operator typed it, quoted (control characters escaped), for a message. */
export const shown = (value: unknown): string => {
  const text = String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
};

/** A whole number within bounds, written in decimal digits; `expected` says what it counts. */
export const integer = (fallback: number, { min, max = Number.MAX_SAFE_INTEGER, expected }: { min: number; max?: number; expected: string }) =>
  z
    .string()
    .trim()
    .default(String(fallback))
    .transform((value, ctx) => {
      const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be ${expected}, got ${shown(value)}` });
        return z.NEVER;
      }
      return n;
    });

/** One of a few words; the message lists them. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.enum(values, { error: (issue) => `must be one of ${values.join(', ')}, got ${shown(issue.input)}` }).default(fallback);

export interface DurationBounds {
  /** Seconds; 1 unless given. */
  min?: number;
  /** Why 0 makes no sense, when `min` is 1. */
  whyNotZero?: string;
  max?: { seconds: number; written: string; why: string };
}

/** Seconds, given as a number of seconds ("900") or an `ms` string ("15m", "7d"). */
export const duration = (fallback: string, { min = 1, whyNotZero, max }: DurationBounds = {}) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((value, ctx) => {
      const fail = (message: string) => {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      };
      const millis = /^\d+$/.test(value) ? Number(value) * 1000 : ms(value as StringValue);
      if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 0) {
        return fail(`must be seconds or a duration like "15m" or "7d", got ${shown(value)}`);
      }
      const seconds = Math.round(millis / 1000);
      if (seconds < min) {
        return fail(`must be at least ${min} second${min === 1 ? '' : 's'}, got ${shown(value)}${whyNotZero ? `; ${whyNotZero}` : ''}`);
      }
      if (max && seconds > max.seconds) return fail(`must be at most ${max.written} (${max.seconds} s), got ${shown(value)}: ${max.why}`);
      return seconds;
    });

/** Milliseconds, given as a number of milliseconds ("250") or an `ms` string ("1s", "500ms"). */
export const durationMs = (fallback: string, { min, max }: { min: number; max: number }) =>
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

/** Milliseconds each, comma-separated durations ("0,5s,5m"): at least one, none negative. */
export const durationList = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((value, ctx) => {
      const parts = value.split(',').map((part) => part.trim());
      const toMillis = (part: string): number | undefined => {
        if (/^\d+$/.test(part)) return Number(part) * 1000;
        try {
          return ms(part as StringValue);
        } catch {
          return undefined; // ms throws on an empty or over-long string
        }
      };
      const millis = parts.map(toMillis);
      if (millis.some((m) => typeof m !== 'number' || !Number.isFinite(m) || m < 0)) {
        ctx.addIssue({
          code: 'custom',
          message: `must be comma-separated delays (seconds, or like "5s", "5m", "2h"), such as "${fallback}", got ${shown(value)}`,
        });
        return z.NEVER;
      }
      return millis.map((m) => Math.round(m!));
    });

export const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, 1: true, 0: false, yes: true, no: false };

export const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return fallback;
      const answer = BOOLEAN_WORDS[v.trim().toLowerCase()];
      if (answer !== undefined) return answer;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got ${shown(v)}` });
      return z.NEVER;
    });

export const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** Secrets shipped in examples: refusing them in production stops a copy-paste deployment. */
export const PLACEHOLDER_SECRETS = new Set(['change-me-to-at-least-32-random-bytes-please', 'secret', 'changeme']);

/** A connection string; the message never repeats it (it usually holds a password). */
export const isPostgresUrl = (v: string) => /^postgres(ql)?:\/\//.test(v) && URL.canParse(v);
export const POSTGRES_URL_FORM = 'must be a postgresql://user:password@host:5432/database URL (the value is not repeated: it may hold a password)';

/** An SMTP server URL; the message never repeats it (it may hold a password). */
export const isSmtpUrl = (v: string) => /^smtps?:\/\/[^/]/.test(v) && URL.canParse(v);
export const SMTP_URL_FORM =
  'must be smtp://user:password@host:587 (STARTTLS when the server offers it) or smtps://user:password@host:465 (TLS) (the value is not repeated: it may hold a password)';

/**
 * Why a CORS_ORIGINS entry is not an origin as browsers send it in `Origin` (compared as
 * exact strings: `https://app.example.com/` or `https://APP.example.com` would never
 * match), or undefined.
 */
export function originProblem(entry: string): string | undefined {
  let origin: string | undefined;
  try {
    origin = new URL(entry).origin;
  } catch {
    // not a URL at all
  }
  if (origin === entry && /^https?:\/\//.test(entry)) return undefined;
  const hint = origin && /^https?:\/\//.test(origin) ? ` (did you mean ${shown(origin)}?)` : '';
  return `must be comma-separated origins, each scheme://host[:port] with no path, query or trailing slash, such as https://app.example.com; got ${shown(entry)}${hint}`;
}

/** A comma-separated list of exact origins (CORS_ORIGINS, WEBAUTHN_ORIGINS): each one checked, the list parsed. */
export const originList = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const origins = v
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    for (const origin of origins) {
      const problem = originProblem(origin);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }
    return origins;
  });

/** The names proxy-addr (Fastify's trustProxy) accepts besides addresses. */
export const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Whether a TRUST_PROXY entry is what proxy-addr accepts: an IP address, an address with
 * a prefix length (`10.0.0.0/8`, `fd00::/8`) or an IPv4 netmask (`10.0.0.0/255.0.0.0`),
 * or one of its range names. Checked here so that a typo stops the start with the key's
 * name, not later inside Fastify with only "invalid IP address".
 */
export function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const slash = entry.lastIndexOf('/');
  const family = isIP(slash === -1 ? entry : entry.slice(0, slash));
  if (family === 0) return false;
  if (slash === -1) return true;
  const range = entry.slice(slash + 1);
  if (/^\d+$/.test(range)) return Number(range) >= 1 && Number(range) <= (family === 6 ? 128 : 32);
  if (family !== 4 || isIP(range) !== 4) return false;
  // A netmask: ones, then zeros.
  const mask = range.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const hostBits = 0xffffffff - mask;
  return mask !== 0 && (hostBits & (hostBits + 1)) === 0;
}

export const TRUST_PROXY_FORM = 'must be false, true, a hop count, or comma-separated proxy addresses or CIDRs (such as 10.0.0.0/8, loopback)';
