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

/**
 * An audit event as an admin reads it: with the emails of its user and of whoever did it,
 * as those accounts hold them now (null without one, or once the account is gone). Only
 * here: webhooks carry the event with ids alone.
 */
export class AdminAuditEventDto extends AuditEventDto {
  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com', description: 'The email of `userId` now' }) userEmail!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'admin@example.com', description: 'The email of `actorId` now' }) actorEmail!: string | null;

  static withEmails(event: AuditEventDto, emails: ReadonlyMap<string, string>): AdminAuditEventDto {
    const emailOf = (id: string | null) => (id === null ? null : (emails.get(id) ?? null));
    return { ...event, userEmail: emailOf(event.userId), actorEmail: emailOf(event.actorId) };
  }
}

export class AuditPageDto {
  @ApiProperty({ type: [AdminAuditEventDto] }) items!: AdminAuditEventDto[];
  @ApiProperty(NEXT_CURSOR_DOC) nextCursor!: string | null;
}

export { AuditEventDto };
