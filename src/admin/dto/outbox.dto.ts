import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import type { OutboxDelivery, OutboxStatus } from '../../generated/prisma/client';
import type { OutboxKind } from '../../outbox/outbox-kinds';
import { BAD_CURSOR, NEXT_CURSOR_DOC, PageQuery } from './page.dto';

/** Every kind the features declare (src/outbox/outbox-kinds.ts), in the order the filter's message lists them: the compiler checks none is missing. */
const KINDS = Object.keys({ webhook: true, backchannel: true, mail: true } satisfies Record<OutboxKind, true>) as OutboxKind[];
const STATUSES: OutboxStatus[] = ['pending', 'delivered', 'failed'];

/** GET /admin/outbox: newest first. */
export class OutboxQuery extends PageQuery {
  @ApiPropertyOptional({ enum: KINDS })
  @IsOptional()
  @IsIn(KINDS, { message: `kind must be one of ${KINDS.join(', ')}` })
  kind?: OutboxKind;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES, { message: `status must be one of ${STATUSES.join(', ')}` })
  status?: OutboxStatus;

  @ApiPropertyOptional({ pattern: '^\\d{1,18}$', description: '`nextCursor` of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: BAD_CURSOR })
  cursor?: string;
}

/** An outbound delivery as admins see it: never its body, never a token. */
export class DeliveryDto {
  @ApiProperty({ description: 'Increasing with time; a string (64-bit)' }) id!: string;
  @ApiProperty({ enum: KINDS }) kind!: string;
  @ApiProperty({ description: 'The endpoint, client or recipient address' }) target!: string;
  @ApiProperty({ example: 'password-reset', description: 'A mail template, or the audit event type of a webhook' }) eventType!: string;
  @ApiProperty({ enum: STATUSES }) status!: OutboxStatus;
  @ApiProperty({ type: 'integer' }) attempts!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: "The receiver's last answer (HTTP status, SMTP reply code)" }) lastStatusCode!: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: Date, nullable: true, description: 'Null once delivered or failed' }) nextAttemptAt!: Date | null;
  @ApiProperty() createdAt!: Date;

  static from(row: OutboxDelivery): DeliveryDto {
    const { id, kind, target, eventType, status, attempts, lastStatusCode, lastError, nextAttemptAt, createdAt } = row;
    return { id: id.toString(), kind, target, eventType, status, attempts, lastStatusCode, lastError, nextAttemptAt, createdAt };
  }
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto] }) items!: DeliveryDto[];
  @ApiProperty(NEXT_CURSOR_DOC) nextCursor!: string | null;
}
