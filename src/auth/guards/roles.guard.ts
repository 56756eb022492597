import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@nest-auth-backend/token-contract';
import type { AuthUser } from '../auth-user';
import { ROLES } from '../decorators/roles.decorator';

/** Global (APP_GUARD, after the JWT guard): enforces `@Roles(...)` with the caller's current role. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

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
    if (user && roles.includes(user.role)) return true;
    throw new ForbiddenException('Insufficient role');
  }
}
