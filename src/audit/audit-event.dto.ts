import { ApiProperty } from '@nestjs/swagger';
import type { AuditEvent } from '../generated/prisma/client';

/** An audit event as /admin/audit shows it, and as a webhook's `data` carries it. */
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
