import { ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SkipThrottle, ThrottlerGuard, type ThrottlerModuleOptions, type ThrottlerOptions } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/configuration';
import { PostgresThrottlerStorage } from '../../throttling/postgres-throttler.storage';
import { normalizeEmail } from '../../users/email';
import { DeviceCookies } from './device-cookie';

/**
 * The auth routes' rate limits, each counted in PostgreSQL so that every instance shares
 * them. What each one stops (and what it cannot) is in docs/security.md.
 */
export const THROTTLE = {
  /** RATE_LIMIT_LOGIN login attempts a minute per client IP… */
  loginPerIp: 'login-ip',
  /** …and per target account: strangers share one budget per email, a device that has
   * signed in to the account before has its own (see DeviceCookies). */
  loginPerAccount: 'login-account',
  /** RATE_LIMIT_REFRESH refreshes a minute per client IP. */
  refreshPerIp: 'refresh-ip',
  /** RATE_LIMIT_REGISTER registration attempts a minute per client IP: each costs an
   * argon2 hash, and a 409 tells whether an email is registered. */
  registerPerIp: 'register-ip',
  /** RATE_LIMIT_LOGIN password-change attempts a minute per user: a stolen access token
   * must not become an unlimited oracle for the current password. */
  passwordPerUser: 'password-user',
  /** RATE_LIMIT_MAIL mail requests (forgot, resend) a minute per client IP… */
  mailPerIp: 'mail-ip',
  /** …and per email address, whoever asks: nobody can flood one mailbox. */
  mailPerEmail: 'mail-email',
} as const;

type ThrottleName = (typeof THROTTLE)[keyof typeof THROTTLE];

/** With `@UseGuards(AuthThrottlerGuard)`: counts only the named limits on this route. */
export const OnlyLimits = (...names: ThrottleName[]) => SkipThrottle(Object.fromEntries(Object.values(THROTTLE).map((name) => [name, !names.includes(name)])));

const MINUTE = 60_000;

type AnyRequest = Record<string, any>;
const ipOf = (req: AnyRequest) => (req as FastifyRequest).ip;
const userOf = (req: AnyRequest) => (req as { user?: { id?: string } }).user?.id ?? '';
const emailOf = (req: AnyRequest) => {
  const email = (req as FastifyRequest<{ Body: { email?: unknown } }>).body?.email;
  return typeof email === 'string' ? normalizeEmail(email) : '';
};

export function throttlerOptions(config: ConfigService<AppConfig, true>, storage: PostgresThrottlerStorage, devices: DeviceCookies): ThrottlerModuleOptions {
  const accountOf = (req: AnyRequest) => {
    const email = emailOf(req);
    const device = devices.trustedDevice(req as FastifyRequest, email);
    return device ? `device:${device}:${email}` : `strangers:${email}`;
  };
  // A window of one minute; once over the limit the key is blocked for the rest of that
  // minute (blockDuration = ttl), never for good. A limit of 0 turns that limit off.
  const perMinute = (name: ThrottleName, limit: number, getTracker: ThrottlerOptions['getTracker']): ThrottlerOptions => ({
    name,
    ttl: MINUTE,
    limit: Math.max(limit, 1),
    getTracker,
    skipIf: () => limit === 0,
  });
  const { loginRateLimit, refreshRateLimit, registerRateLimit } = config.get('auth', { infer: true });
  const mailRateLimit = config.get('recovery.rateLimit', { infer: true });
  return {
    storage,
    throttlers: [
      perMinute(THROTTLE.loginPerIp, loginRateLimit, ipOf),
      perMinute(THROTTLE.loginPerAccount, loginRateLimit, accountOf),
      perMinute(THROTTLE.refreshPerIp, refreshRateLimit, ipOf),
      perMinute(THROTTLE.registerPerIp, registerRateLimit, ipOf),
      perMinute(THROTTLE.passwordPerUser, loginRateLimit, userOf),
      perMinute(THROTTLE.mailPerIp, mailRateLimit, ipOf),
      perMinute(THROTTLE.mailPerEmail, mailRateLimit, emailOf),
    ],
  };
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
