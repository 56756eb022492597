import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { AppConfig } from '../../config/configuration';
import { PrismaService } from '../../database/prisma.service';
import type { AuthUser } from '../auth-user';
import { REQUIRES_RECENT_AUTH } from '../decorators/requires-recent-auth.decorator';
import { IF_SECOND_FACTOR, type RecentAuthDemand } from './recent-if-second-factor.decorator';
import { InsufficientUserAuthentication } from './insufficient-authentication';
import { SecondFactors } from './second-factors';

/** Whether an authentication at `authTime` (epoch seconds) is at most `maxAge` seconds old. */
export function isRecent(authTime: number, maxAge: number, now = Date.now()): boolean {
  return Math.floor(now / 1000) - authTime <= maxAge;
}

/**
 * Global (APP_GUARD, after the JWT and roles guards): a route marked `@RequiresRecentAuth()`
 * wants the token's `auth_time` within REAUTH_MAX_AGE and, for a user with a second
 * factor, `acr` aal2; one marked `@RecentIfSecondFactor()` wants that only of a user with a
 * second factor. Otherwise RFC 9470's 401 (InsufficientUserAuthentication). Every other
 * route passes at once: one WeakMap read, no promise, no database. Whether the user has a
 * second factor is read on the marked routes only (they are rare, and change accounts).
 */
@Injectable()
export class RecentAuthGuard implements CanActivate {
  private readonly maxAge: number;
  /** The demand of each route handler, read once (false: none). */
  private readonly demands = new WeakMap<object, RecentAuthDemand | false>();

  constructor(
    private readonly reflector: Reflector,
    private readonly prisma: PrismaService,
    private readonly secondFactors: SecondFactors,
    config: ConfigService<AppConfig, true>,
  ) {
    this.maxAge = config.get('auth.reauthMaxAge', { infer: true });
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const handler = context.getHandler();
    let demand = this.demands.get(handler);
    if (demand === undefined) {
      demand = this.reflector.getAllAndOverride<RecentAuthDemand | undefined>(REQUIRES_RECENT_AUTH, [handler, context.getClass()]) ?? false;
      this.demands.set(handler, demand);
    }
    if (demand === false) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    // A public route marked by mistake: nothing to judge (the handler sees no caller either).
    if (!user) return true;
    return this.check(user, demand);
  }

  private async check(user: AuthUser, demand: RecentAuthDemand): Promise<true> {
    // aal2 already: whether the user has a factor changes nothing, so no read.
    const hasFactor = user.acr !== 'aal2' || demand === IF_SECOND_FACTOR ? await this.prisma.$transaction((tx) => this.secondFactors.has(tx, user.id)) : true;
    if (demand === IF_SECOND_FACTOR && !hasFactor) return true;
    const weak = hasFactor && user.acr !== 'aal2';
    if (weak || !isRecent(user.authTime, this.maxAge)) throw new InsufficientUserAuthentication({ maxAge: this.maxAge, ...(weak && { acr: 'aal2' as const }) });
    return true;
  }
}
