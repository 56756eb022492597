import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Roles } from '../auth/decorators/roles.decorator';

/**
 * On every admin controller class: role ADMIN, checked by the global RolesGuard with the
 * caller's current role (a demotion applies from the next request). The global JWT guard
 * answers 401 first when there is no valid token.
 */
export const AdminOnly = () =>
  applyDecorators(
    Roles('ADMIN'),
    ApiTags('admin'),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No valid access token' }),
    ApiForbiddenResponse({ description: 'The caller is not an admin' }),
  );
