import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParam } from '../auth/decorators/uuid-param.decorator';
import { CLIENT_NOT_FOUND, ClientsService } from '../clients/clients.service';
import { ApiDatabase, ApiErrors, ApiJsonBody } from '../common/api-docs';
import { Client, type ClientMeta } from '../common/client-meta';
import { AdminOnly } from './admin-only.decorator';
import { ClientSecretDto, ClientsDto, CreateClientDto, CreatedClientDto } from './dto/clients.dto';

/** /admin/clients (API.md, "Services that accept our access tokens"). */
@AdminOnly()
@ApiDatabase()
@Controller('admin/clients')
export class AdminClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedClientDto, description: 'The secret is shown once' })
  @ApiJsonBody()
  @ApiErrors(401, 403)
  create(@Body() dto: CreateClientDto, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<CreatedClientDto> {
    return this.clients.create(dto, { actorId: admin.id, client });
  }

  @Get()
  @ApiOkResponse({ type: ClientsDto })
  @ApiErrors(401, 403)
  async list(): Promise<ClientsDto> {
    return { items: await this.clients.list() };
  }

  @Post(':id/secret')
  @ApiCreatedResponse({ type: ClientSecretDto })
  @ApiErrors(401, 403, { 404: CLIENT_NOT_FOUND })
  rotate(@UuidParam('id', CLIENT_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<ClientSecretDto> {
    return this.clients.rotateSecret(id, { actorId: admin.id, client });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Its credentials stop working and its feeds close, on every instance' })
  @ApiErrors(401, 403, { 404: CLIENT_NOT_FOUND })
  async delete(@UuidParam('id', CLIENT_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.clients.delete(id, { actorId: admin.id, client });
  }
}
