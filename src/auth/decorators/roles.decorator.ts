import { SetMetadata } from '@nestjs/common';
import type { Role } from '@nest-auth-backend/token-contract';

export const ROLES = 'auth:roles';

/** Restricts a route (or a controller) to these roles; checked by the global RolesGuard. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES, roles);
