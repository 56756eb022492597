import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsAcceptableEmail } from '../../users/email.validator';
import { PASSWORD_MAX, PASSWORD_MIN } from '../passwords/password-policy';

/**
 * No control characters (C0, DEL, C1) and no invisible format characters (bidi overrides
 * such as U+202E, which make a name display as another) in names; the zero-width joiner
 * stays allowed, emoji sequences need it.
 */
const NO_CONTROL_CHARS = /^(?:[^\p{Cc}\p{Cf}]|\u200D)*$/u;

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  // Normalised here, once, for the route and everything it calls (src/users/email.ts).
  @IsAcceptableEmail()
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
  // Normalised here, once, for the route and everything it calls (src/users/email.ts).
  @IsAcceptableEmail()
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
  // Far above a refresh token (43 characters), and above an access token sent here by
  // mistake (~550 with ES256, ~750 with RS256), which gets the 401 of an invalid token.
  @MaxLength(2048)
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
