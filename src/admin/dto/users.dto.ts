import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEnum, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { Role } from '../../generated/prisma/client';
import { UserDto } from '../../users/user.dto';
import { BAD_CURSOR, NEXT_CURSOR_DOC, PageQuery } from './page.dto';

/** GET /admin/users: newest first. */
export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Part of the email, any case' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ format: 'uuid', description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsUUID('all', { message: BAD_CURSOR })
  cursor?: string;
}

export class UsersPageDto {
  @ApiProperty({ type: [UserDto] }) items!: UserDto[];
  @ApiProperty(NEXT_CURSOR_DOC) nextCursor!: string | null;
}

/** PATCH /admin/users/:id. `null` is refused (not read as "absent"): neither column is nullable. */
export class UpdateUserDto {
  @ApiPropertyOptional({ enum: Role, description: 'Applies from the user’s next request' })
  @ValidateIf((_, value) => value !== undefined)
  @IsEnum(Role, { message: `role must be one of: ${Object.values(Role).join(', ')}` })
  role?: Role;

  @ApiPropertyOptional({ description: 'true ends every session of the user and refuses their logins' })
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean()
  disabled?: boolean;
}
