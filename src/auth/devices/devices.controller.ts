import { Controller, Delete, Get, HttpCode } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiBearer, ApiDatabase, ApiErrors } from '../../common/api-docs';
import { Client, type ClientMeta } from '../../common/client-meta';
import type { AuthUser } from '../auth-user';
import { CurrentUser } from '../decorators/current-user.decorator';
import { UuidParam } from '../decorators/uuid-param.decorator';
import { MyDeviceDto, SESSION_NOT_FOUND } from './device.dto';
import { DevicesService } from './devices.service';

/** /auth/sessions: the caller's own devices (API.md, "Auth"). */
@ApiTags('auth')
@ApiBearer()
@ApiDatabase()
@Controller('auth/sessions')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOkResponse({ type: [MyDeviceDto], description: 'Active sessions, newest first' })
  list(@CurrentUser() me: AuthUser): Promise<MyDeviceDto[]> {
    return this.devices.listMine(me);
  }

  /** Ending the current session this way is a logout. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The session has ended; its access tokens no longer work' })
  @ApiErrors({ 404: 'Not an active session of the caller (the same answer for anyone else’s)' })
  async end(@UuidParam('id', SESSION_NOT_FOUND) id: string, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.devices.end(id, { ownerId: me.id, actorId: me.id, reason: 'SESSION_DELETED', client });
  }
}
