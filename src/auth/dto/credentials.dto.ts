import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { normalizeEmail } from '../../users/email';

const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? normalizeEmail(value) : value);
/**
 * No control characters (C0, DEL, C1) and no invisible format characters (bidi overrides
 * such as U+202E, which make a name display as another) in names; the zero-width joiner
 * stays allowed, emoji sequences need it.
 */
const NO_CONTROL_CHARS = /^(?:[^\p{Cc}\p{Cf}]|\u200D)*$/u;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trimLower)
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: 1, maxLength: PASSWORD_MAX })
  @IsString()
  @Length(1, PASSWORD_MAX)
  password!: string;
}

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trimLower)
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX })
  @IsString()
  @Length(PASSWORD_MIN, PASSWORD_MAX, { message: `password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters` })
  password!: string;

  @ApiPropertyOptional({ maxLength: 100, example: 'Ada Lovelace' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  @Matches(NO_CONTROL_CHARS, { message: 'name must not contain control characters' })
  name?: string;
}

export class RefreshTokenDto {
  @ApiPropertyOptional({ description: 'Omitted in cookie mode (X-Auth-Mode: cookie).' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @Length(1, PASSWORD_MAX)
  currentPassword!: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX })
  @IsString()
  @Length(PASSWORD_MIN, PASSWORD_MAX, { message: `newPassword must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters` })
  newPassword!: string;
}
