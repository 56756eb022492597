import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES, type Role } from '@nest-auth-backend/token-contract';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { isText } from '../../auth/dto/field-rules';
import { UserDto } from '../../users/user.dto';
import { BAD_CURSOR, NEXT_CURSOR_DOC, PageQuery } from './page.dto';

/** GET /admin/users: newest first. */
export class ListUsersQuery extends PageQuery {
  // A search, not an address: no `format: 'email'`.
  @ApiPropertyOptional({ maxLength: 254, description: 'Part of the email, any case' })
  @IsOptional()
  @IsString({ message: 'email must be a string (one search term)' })
  @MaxLength(254, { message: 'email must be at most 254 characters', validateIf: isText })
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
  @ApiPropertyOptional({ enum: ROLES, description: 'Applies from the user’s next request' })
  @ValidateIf((_, value) => value !== undefined)
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role?: Role;

  @ApiPropertyOptional({ type: Boolean, description: 'true ends every session of the user and refuses their logins' })
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean({ message: 'disabled must be true or false' })
  disabled?: boolean;
}
