import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { ApiDatabase, ApiErrors } from '../common/api-docs';
import { OutboxRepository } from '../outbox/outbox.repository';
import { AdminOnly } from './admin-only.decorator';
import { DeliveryDto, DeliveryPageDto, OutboxQuery } from './dto/outbox.dto';
import { PAGE_SIZE, pageOf } from './dto/page.dto';

/** /admin/outbox (API.md, "Webhooks and back-channel logout"): every outbound delivery, newest first. */
@AdminOnly()
@ApiDatabase()
@Controller('admin/outbox')
export class AdminOutboxController {
  constructor(private readonly outbox: OutboxRepository) {}

  @Get()
  @ApiOkResponse({ type: DeliveryPageDto, description: 'Newest first' })
  @ApiErrors(401, 403, { 400: 'Invalid kind, status, take or cursor' })
  async list(@Query() { kind, status, take = PAGE_SIZE.default, cursor }: OutboxQuery): Promise<DeliveryPageDto> {
    const rows = await this.outbox.page({ kind, status, beforeId: cursor === undefined ? undefined : BigInt(cursor), take: take + 1 });
    return pageOf(
      rows.map((row) => DeliveryDto.from(row)),
      take,
      (delivery) => delivery.id,
    );
  }
}
