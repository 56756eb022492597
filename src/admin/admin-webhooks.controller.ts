import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParam } from '../auth/decorators/uuid-param.decorator';
import { ApiDatabase, ApiErrors, ApiJsonBody } from '../common/api-docs';
import { Client, type ClientMeta } from '../common/client-meta';
import { DELIVERY_NOT_FOUND, WEBHOOK_NOT_FOUND, WebhooksService } from '../webhooks/webhooks.service';
import { AdminOnly } from './admin-only.decorator';
import { DeliveryDto, DeliveryPageDto } from './dto/outbox.dto';
import { PAGE_SIZE, pageOf } from './dto/page.dto';
import { CreatedWebhookDto, CreateWebhookDto, UpdateWebhookDto, WebhookDeliveriesQuery, WebhookDto, WebhooksDto, WebhookSecretDto } from './dto/webhooks.dto';

/** /admin/webhooks (API.md, "Webhooks and back-channel logout"). */
@AdminOnly()
@ApiDatabase()
@Controller('admin/webhooks')
export class AdminWebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedWebhookDto, description: 'The secret is shown once' })
  @ApiJsonBody()
  @ApiErrors(401, 403)
  create(@Body() dto: CreateWebhookDto, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<CreatedWebhookDto> {
    return this.webhooks.create(dto, { actorId: admin.id, client });
  }

  @Get()
  @ApiOkResponse({ type: WebhooksDto })
  @ApiErrors(401, 403)
  async list(): Promise<WebhooksDto> {
    return { items: await this.webhooks.list() };
  }

  @Patch(':id')
  @ApiOkResponse({ type: WebhookDto })
  @ApiJsonBody()
  @ApiErrors(401, 403, { 404: WEBHOOK_NOT_FOUND })
  update(
    @UuidParam('id', WEBHOOK_NOT_FOUND) id: string,
    @Body() dto: UpdateWebhookDto,
    @CurrentUser() admin: AuthUser,
    @Client() client: ClientMeta,
  ): Promise<WebhookDto> {
    const { url, events, description, enabled } = dto;
    return this.webhooks.update(id, { url, events, description, enabled }, { actorId: admin.id, client });
  }

  @Post(':id/secret')
  @ApiCreatedResponse({ type: WebhookSecretDto })
  @ApiErrors(401, 403, { 404: WEBHOOK_NOT_FOUND })
  rotate(@UuidParam('id', WEBHOOK_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<WebhookSecretDto> {
    return this.webhooks.rotateSecret(id, { actorId: admin.id, client });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; its pending deliveries fail' })
  @ApiErrors(401, 403, { 404: WEBHOOK_NOT_FOUND })
  async delete(@UuidParam('id', WEBHOOK_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.webhooks.delete(id, { actorId: admin.id, client });
  }

  @Get(':id/deliveries')
  @ApiOkResponse({ type: DeliveryPageDto, description: 'Newest first' })
  @ApiErrors(401, 403, { 400: 'Invalid take or cursor', 404: WEBHOOK_NOT_FOUND })
  async deliveries(
    @UuidParam('id', WEBHOOK_NOT_FOUND) id: string,
    @Query() { take = PAGE_SIZE.default, cursor }: WebhookDeliveriesQuery,
  ): Promise<DeliveryPageDto> {
    const rows = await this.webhooks.deliveries(id, { beforeId: cursor === undefined ? undefined : BigInt(cursor), take: take + 1 });
    return pageOf(
      rows.map((row) => DeliveryDto.from(row)),
      take,
      (delivery) => delivery.id,
    );
  }

  @Post(':id/deliveries/:deliveryId/retry')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'Due again now: the same webhook-id, signed afresh' })
  @ApiErrors(401, 403, { 404: `${WEBHOOK_NOT_FOUND}, or ${DELIVERY_NOT_FOUND}` })
  async retry(
    @UuidParam('id', WEBHOOK_NOT_FOUND) id: string,
    @Param('deliveryId') deliveryId: string,
    @CurrentUser() admin: AuthUser,
    @Client() client: ClientMeta,
  ): Promise<void> {
    if (!/^\d{1,18}$/.test(deliveryId)) throw new NotFoundException(DELIVERY_NOT_FOUND);
    await this.webhooks.retry(id, BigInt(deliveryId), { actorId: admin.id, client });
  }
}
