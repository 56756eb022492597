import { createHash } from 'node:crypto';
import { ExecutionContext, HttpException, HttpStatus, Injectable, SetMetadata } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerGuard, type ThrottlerModuleOptions, type ThrottlerOptions } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/configuration';
import { PostgresThrottlerStorage } from '../../throttling/postgres-throttler.storage';
import { normalizeEmail } from '../../users/email';
import { DeviceCookies } from './device-cookie';

type AnyRequest = Record<string, any>;

/**
 * A rate limit of the auth routes, counted in PostgreSQL so that every instance shares it:
 * a window of one minute; once over the limit the key is blocked for the rest of that
 * minute (blockDuration = ttl), never for good. What each one stops (and what it cannot)
 * is in docs/security.md.
 */
export interface ThrottleBucket {
  /** Part of its counters' keys in the throttle table. */
  name: string;
  /** Requests a minute, from the configuration; 0 turns the limit off. */
  limit: (config: ConfigService<AppConfig, true>) => number;
  /** Whose requests count together. */
  tracker: (request: AnyRequest, devices: DeviceCookies) => string;
  /**
   * One count for every route that names it (the login limits: a password and a second
   * step spend one budget). Otherwise, as the throttler does by default, each route counts apart.
   */
  acrossRoutes?: true;
}

/** The buckets, an open registry: a feature declares its own, in its own folder (src/auth/recovery/recovery-throttles.ts). */
const buckets = new Map<string, ThrottleBucket>();

/** Declares a bucket (when its file is loaded); its name is what `@OnlyLimits` takes. */
export function throttleBucket(bucket: ThrottleBucket): string {
  if (buckets.has(bucket.name)) throw new Error(`Two throttle buckets named ${bucket.name}`);
  buckets.set(bucket.name, bucket);
  return bucket.name;
}

export const ipOf = (req: AnyRequest) => (req as FastifyRequest).ip;
const userOf = (req: AnyRequest) => (req as { user?: { id?: string } }).user?.id ?? '';
/** Where a second step's guard (MfaStepGuard) puts the email of the account its mfaToken signs in to. */
export const SIGN_IN_ACCOUNT = Symbol('sign-in account');
export const emailOf = (req: AnyRequest) => {
  const email = (req as FastifyRequest<{ Body: { email?: unknown } }>).body?.email ?? (req as { [SIGN_IN_ACCOUNT]?: string })[SIGN_IN_ACCOUNT];
  return typeof email === 'string' ? normalizeEmail(email) : '';
};

/** The sign-in's own limits. */
export const THROTTLE = {
  /** RATE_LIMIT_LOGIN login attempts a minute per client IP… */
  loginPerIp: throttleBucket({ name: 'login-ip', limit: (config) => config.get('auth.loginRateLimit', { infer: true }), tracker: ipOf, acrossRoutes: true }),
  /** …and per target account: strangers share one budget per email, a device that has
   * signed in to the account before has its own (see DeviceCookies). Second-factor
   * attempts (POST /auth/login/mfa) count here too, under the account their mfaToken names. */
  loginPerAccount: throttleBucket({
    name: 'login-account',
    limit: (config) => config.get('auth.loginRateLimit', { infer: true }),
    acrossRoutes: true,
    tracker: (req, devices) => {
      const email = emailOf(req);
      const device = devices.trustedDevice(req as FastifyRequest, email);
      return device ? `device:${device}:${email}` : `strangers:${email}`;
    },
  }),
  /** RATE_LIMIT_REFRESH refreshes a minute per client IP. */
  refreshPerIp: throttleBucket({ name: 'refresh-ip', limit: (config) => config.get('auth.refreshRateLimit', { infer: true }), tracker: ipOf }),
  /** RATE_LIMIT_REGISTER registration attempts a minute per client IP: each costs an
   * argon2 hash, and a 409 tells whether an email is registered. */
  registerPerIp: throttleBucket({ name: 'register-ip', limit: (config) => config.get('auth.registerRateLimit', { infer: true }), tracker: ipOf }),
  /** RATE_LIMIT_LOGIN password-change attempts a minute per user: a stolen access token
   * must not become an unlimited oracle for the current password. */
  passwordPerUser: throttleBucket({ name: 'password-user', limit: (config) => config.get('auth.loginRateLimit', { infer: true }), tracker: userOf }),
};

const ONLY_LIMITS = 'auth-throttling:only-limits';

/** With `@UseGuards(AuthThrottlerGuard)`: counts only the named limits on this route (without it, all). */
export const OnlyLimits = (...names: string[]) => SetMetadata(ONLY_LIMITS, names);

const MINUTE = 60_000;

export function throttlerOptions(config: ConfigService<AppConfig, true>, storage: PostgresThrottlerStorage, devices: DeviceCookies): ThrottlerModuleOptions {
  const named = (context: ExecutionContext): string[] | undefined =>
    (Reflect.getMetadata(ONLY_LIMITS, context.getHandler()) ?? Reflect.getMetadata(ONLY_LIMITS, context.getClass())) as string[] | undefined;
  const perMinute = ({ name, limit: limitOf, tracker, acrossRoutes }: ThrottleBucket): ThrottlerOptions => {
    const limit = limitOf(config);
    return {
      name,
      ttl: MINUTE,
      limit: Math.max(limit, 1),
      getTracker: (req) => tracker(req, devices),
      skipIf: (context) => limit === 0 || !(named(context)?.includes(name) ?? true),
      // The default key names the controller and handler too: without them, one key for all the bucket's routes.
      ...(acrossRoutes && { generateKey: (_context, suffix) => createHash('sha256').update(`${name}-${suffix}`).digest('hex') }),
    };
  };
  return { storage, throttlers: [...buckets.values()].map(perMinute) };
}

/** The throttler guard, answering 429 with a plain `Retry-After` (seconds) and a clear message. */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  protected override throwThrottlingException(context: ExecutionContext, detail: { timeToBlockExpire: number }): Promise<void> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    void reply.header('retry-after', String(Math.max(1, detail.timeToBlockExpire)));
    throw new HttpException(
      { statusCode: HttpStatus.TOO_MANY_REQUESTS, message: 'Too many attempts; try again later', error: 'Too Many Requests' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
