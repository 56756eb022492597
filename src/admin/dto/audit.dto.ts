import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID, Matches } from 'class-validator';
import { AuditEventDto } from '../../audit/audit-event.dto';
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

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty(NEXT_CURSOR_DOC) nextCursor!: string | null;
}

export { AuditEventDto };
