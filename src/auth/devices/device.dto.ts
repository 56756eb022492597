import { ApiProperty } from '@nestjs/swagger';
import type { Session } from '../../generated/prisma/client';

/** The one answer for "no such active session here", whoever owns the id: ids cannot be probed. */
export const SESSION_NOT_FOUND = 'Session not found';

/** The columns a session view needs: never the refresh token hash. */
export const SESSION_VIEW_FIELDS = {
  id: true,
  createdAt: true,
  lastUsedAt: true,
  idleExpiresAt: true,
  absoluteExpiresAt: true,
  userAgent: true,
  ip: true,
} as const;

type SessionRow = Pick<Session, keyof typeof SESSION_VIEW_FIELDS>;

/** An active session as GET /admin/users/:id/sessions shows it. */
export class SessionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ description: 'Last login or refresh' }) lastUsedAt!: Date;
  @ApiProperty({ description: 'When the session ends unless refreshed: the earlier of its idle and absolute expiry' })
  expiresAt!: Date;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;

  static from(row: SessionRow): SessionDto {
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

/** An active session of the caller, as GET /auth/sessions shows it. */
export class MySessionDto extends SessionDto {
  @ApiProperty({ description: 'The session of the access token that made this request' }) current!: boolean;
}
