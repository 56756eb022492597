import { ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SkipThrottle, ThrottlerGuard, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/configuration';
import { normalizeEmail } from '../users/email';
import { PostgresThrottlerStorage } from './postgres-throttler.storage';

/** Named limits, each counted in PostgreSQL so that every instance shares them. */
export const THROTTLE = {
  /** RATE_LIMIT_LOGIN login attempts a minute per client IP… */
  loginPerIp: 'login-ip',
  /** …and per target email, so that one account cannot be guessed at from many IPs. */
  loginPerEmail: 'login-email',
  /** RATE_LIMIT_REFRESH refreshes a minute per client IP. */
  refreshPerIp: 'refresh-ip',
  /** RATE_LIMIT_LOGIN password-change attempts a minute per user: a stolen access token
   * must not become an unlimited oracle for the current password. */
  passwordPerUser: 'password-user',
} as const;

type ThrottleName = (typeof THROTTLE)[keyof typeof THROTTLE];

/** With `@UseGuards(AuthThrottlerGuard)`: counts only the named limits on this route. */
export const OnlyLimits = (...names: ThrottleName[]) =>
  SkipThrottle(Object.fromEntries(Object.values(THROTTLE).map((name) => [name, !names.includes(name)])));

const MINUTE = 60_000;

const ipOf = (req: Record<string, any>) => (req as FastifyRequest).ip;
const userOf = (req: Record<string, any>) => (req as { user?: { id?: string } }).user?.id ?? '';
const emailOf = (req: Record<string, any>) => {
  const email = (req as FastifyRequest<{ Body: { email?: unknown } }>).body?.email;
  return typeof email === 'string' ? normalizeEmail(email) : '';
};

export function throttlerOptions(config: ConfigService<AppConfig, true>, storage: PostgresThrottlerStorage): ThrottlerModuleOptions {
  const loginLimit = config.get('auth.loginRateLimit', { infer: true });
  const refreshLimit = config.get('auth.refreshRateLimit', { infer: true });
  // A limit of 0 turns that limit off.
  const loginOff = () => loginLimit === 0;
  const refreshOff = () => refreshLimit === 0;
  return {
    storage,
    throttlers: [
      // A window of one minute; once over the limit the key is blocked for the rest of
      // that minute (blockDuration = ttl), never for good.
      { name: THROTTLE.loginPerIp, ttl: MINUTE, limit: Math.max(loginLimit, 1), getTracker: ipOf, skipIf: loginOff },
      { name: THROTTLE.loginPerEmail, ttl: MINUTE, limit: Math.max(loginLimit, 1), getTracker: emailOf, skipIf: loginOff },
      { name: THROTTLE.refreshPerIp, ttl: MINUTE, limit: Math.max(refreshLimit, 1), getTracker: ipOf, skipIf: refreshOff },
      { name: THROTTLE.passwordPerUser, ttl: MINUTE, limit: Math.max(loginLimit, 1), getTracker: userOf, skipIf: loginOff },
    ],
  };
}

/** The throttler guard, answering 429 with a plain `Retry-After` (seconds) and a clear message. */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: { timeToBlockExpire: number },
  ): Promise<void> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    void reply.header('retry-after', String(Math.max(1, detail.timeToBlockExpire)));
    throw new HttpException(
      { statusCode: HttpStatus.TOO_MANY_REQUESTS, message: 'Too many attempts; try again later', error: 'Too Many Requests' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
