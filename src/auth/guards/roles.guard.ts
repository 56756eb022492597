import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { Role } from '@nest-auth-backend/token-contract';
import type { AppConfig } from '../../config/configuration';
import type { AuthUser } from '../auth-user';
import { ROLES } from '../decorators/roles.decorator';

/** MFA_REQUIRED_ROLES: the 403 of a role route to a caller of such a role whose token is not aal2. */
export const SECOND_FACTOR_REQUIRED_FOR_ROLE = 'A second factor is required for this role';

/**
 * Global (APP_GUARD, after the JWT guard): enforces `@Roles(...)` with the caller's current
 * role; and MFA_REQUIRED_ROLES: on a role route, a caller of such a role needs a token at
 * `acr` aal2. Only role routes: /auth/me and the enrollment routes stay open to them.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly mfaRequiredRoles: ReadonlySet<Role>;

  constructor(
    private readonly reflector: Reflector,
    config: ConfigService<AppConfig, true>,
  ) {
    this.mfaRequiredRoles = new Set(config.get('auth.mfaRequiredRoles', { infer: true }));
  }

  /** `@Roles(...)` per route handler, read once (decorators are fixed once the app is built). */
  private readonly rolesOf = new WeakMap<object, readonly Role[]>();

  canActivate(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let roles = this.rolesOf.get(handler);
    if (roles === undefined) {
      roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [handler, context.getClass()]) ?? [];
      this.rolesOf.set(handler, roles);
    }
    if (roles.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user || !roles.includes(user.role)) throw new ForbiddenException('Insufficient role');
    // The token's level, not the account's: an admin who enrolled since must sign in again (or re-authenticate with the factor).
    if (user.acr !== 'aal2' && this.mfaRequiredRoles.has(user.role)) throw new ForbiddenException(SECOND_FACTOR_REQUIRED_FOR_ROLE);
    return true;
  }
}
