import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParam } from '../auth/decorators/uuid-param.decorator';
import { DeviceDto } from '../auth/devices/device.dto';
import { MfaService } from '../auth/mfa/mfa.service';
import { ApiDatabase, ApiErrors, ApiJsonBody } from '../common/api-docs';
import { Client, type ClientMeta } from '../common/client-meta';
import { UserDto } from '../users/user.dto';
import { AdminOnly } from './admin-only.decorator';
import { AdminUsersService, USER_NOT_FOUND } from './admin-users.service';
import { ListUsersQuery, UpdateUserDto, UsersPageDto } from './dto/users.dto';
import { UserAccessService } from './user-access.service';

/**
 * /admin/users (API.md, "Admin"). Each route lists 401 and 403 itself: a route's responses
 * replace its class's of the same status, and AdminOnly's carry no error schema.
 */
@AdminOnly()
@ApiDatabase()
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: AdminUsersService,
    private readonly access: UserAccessService,
    private readonly mfa: MfaService,
  ) {}

  @Get()
  @ApiOkResponse({ type: UsersPageDto })
  @ApiErrors(401, 403, { 400: 'Invalid take or cursor' })
  list(@Query() query: ListUsersQuery): Promise<UsersPageDto> {
    return this.users.list(query);
  }

  @Get(':id/sessions')
  @ApiOkResponse({ type: [DeviceDto], description: 'Active sessions, newest first' })
  @ApiErrors(401, 403, { 404: USER_NOT_FOUND })
  sessions(@UuidParam('id', USER_NOT_FOUND) id: string): Promise<DeviceDto[]> {
    return this.users.sessions(id);
  }

  @Post(':id/force-logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every session and access token of the user has ended (as logout-all)' })
  @ApiErrors(401, 403, { 404: USER_NOT_FOUND })
  async forceLogout(@UuidParam('id', USER_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.access.forceLogout(admin, id, client);
  }

  @Delete(':id/mfa')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every second factor of the user is removed (TOTP, recovery codes) and every session has ended; the user is mailed' })
  @ApiErrors(401, 403, { 404: USER_NOT_FOUND })
  async resetMfa(@UuidParam('id', USER_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.mfa.adminReset(admin, id, client);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserDto })
  @ApiJsonBody('Invalid or empty body, or an admin demoting or disabling themselves')
  @ApiErrors(401, 403, { 404: USER_NOT_FOUND })
  update(
    @UuidParam('id', USER_NOT_FOUND) id: string,
    @Body() dto: UpdateUserDto,
    @CurrentUser() admin: AuthUser,
    @Client() client: ClientMeta,
  ): Promise<UserDto> {
    return this.access.update(admin, id, dto, client);
  }
}
