import { Controller, Delete, HttpCode } from '@nestjs/common';
import { ApiNoContentResponse } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParam } from '../auth/decorators/uuid-param.decorator';
import { SESSION_NOT_FOUND } from '../auth/devices/device.dto';
import { DevicesService } from '../auth/devices/devices.service';
import { ApiDatabase, ApiErrors } from '../common/api-docs';
import { Client, type ClientMeta } from '../common/client-meta';
import { AdminOnly } from './admin-only.decorator';

/** /admin/sessions (API.md, "Admin"). 401 and 403 on each route: see AdminUsersController. */
@AdminOnly()
@ApiDatabase()
@Controller('admin/sessions')
export class AdminSessionsController {
  constructor(private readonly devices: DevicesService) {}

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The session has ended; its access tokens no longer work' })
  @ApiErrors(401, 403, { 404: 'Not an active session' })
  async end(@UuidParam('id', SESSION_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.devices.end(id, { actorId: admin.id, reason: 'ADMIN_REVOKED', client });
  }
}
