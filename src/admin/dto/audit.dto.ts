import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID, Matches } from 'class-validator';
import type { AuditEvent } from '../../generated/prisma/client';
import { BAD_CURSOR, NEXT_CURSOR_DOC, PageQuery } from './page.dto';

/** GET /admin/audit: newest first. */
export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Events about this user' })
  @IsOptional()
  @IsUUID('all')
  userId?: string;

  @ApiPropertyOptional({ example: 'login.failed', pattern: '^[a-z_.]{1,64}$' })
  @IsOptional()
  @Matches(/^[a-z_.]{1,64}$/, { message: 'type must be an event type such as login.failed' })
  type?: string;

  // Event ids are int8; 18 digits always fit, so a cursor never overflows the column.
  @ApiPropertyOptional({ pattern: '^\\d{1,18}$', description: '`nextCursor` of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: BAD_CURSOR })
  cursor?: string;
}

export class AuditEventDto {
  @ApiProperty({ description: 'Increasing with time; a string (64-bit)' }) id!: string;
  @ApiProperty({ example: 'user.role_changed' }) type!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The user the event is about' }) userId!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'Who did it (an admin, or the user)' }) actorId!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) sessionId!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Facts; never a secret' })
  data!: unknown;

  static from(event: AuditEvent): AuditEventDto {
    const { id, type, userId, actorId, sessionId, ip, userAgent, createdAt, data } = event;
    return { id: id.toString(), type, userId, actorId, sessionId, ip, userAgent, createdAt, data };
  }
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty(NEXT_CURSOR_DOC) nextCursor!: string | null;
}
