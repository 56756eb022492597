import { ApiProperty } from '@nestjs/swagger';
import type { SessionView } from '../sessions/sessions.repository';

/** The one answer for "no such active session here", whoever owns the id: ids cannot be probed. */
export const SESSION_NOT_FOUND = 'Session not found';

/** An active session as a person sees it (a device): GET /admin/users/:id/sessions. */
export class DeviceDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ description: 'Last login or refresh' }) lastUsedAt!: Date;
  @ApiProperty({ description: 'When the session ends unless refreshed: the earlier of its idle and absolute expiry' })
  expiresAt!: Date;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;

  static from(row: SessionView): DeviceDto {
    return {
      id: row.id,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
      expiresAt: row.idleExpiresAt < row.absoluteExpiresAt ? row.idleExpiresAt : row.absoluteExpiresAt,
      userAgent: row.userAgent,
      ip: row.ip,
    };
  }
}

/** One of the caller's own devices: GET /auth/sessions. */
export class MyDeviceDto extends DeviceDto {
  @ApiProperty({ description: 'The session of the access token that made this request' }) current!: boolean;
}
