import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength, MinLength } from 'class-validator';
import { emailProblem } from '../../users/email';
import { IsAcceptableEmail } from '../../users/email.validator';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../users/password-policy';
import { given, isText, Required, textWithin } from './field-rules';

/**
 * No control characters (C0, DEL, C1) and no invisible format characters (bidi overrides
 * such as U+202E, which make a name display as another) in names; the zero-width joiner
 * stays allowed, emoji sequences need it.
 */
const NO_CONTROL_CHARS = /^(?:[^\p{Cc}\p{Cf}]|\u200D)*$/u;

/** RFC 5321: an address (the path, less its brackets) is at most 254 characters. */
const EMAIL_MAX = 254;
const NAME_MAX = 100;
const REFRESH_TOKEN_MAX = 2048;

/**
 * `email` (or `field`), required. One message, the first that applies: required, a string, its length,
 * a spelling `emailProblem` refuses (invisible or look-alike characters: said before the
 * address syntax, being the more precise reason), an address.
 */
export function EmailField(field = 'email'): PropertyDecorator {
  const acceptable = (object: object, value: unknown) => textWithin(0, EMAIL_MAX)(object, value) && emailProblem(value as string) === undefined;
  return applyDecorators(
    ApiProperty({ format: 'email', maxLength: EMAIL_MAX, example: 'ada@example.com', description: 'Any case; stored lower-cased and NFKC-normalised' }),
    Required(field),
    IsString({ message: `${field} must be a string`, validateIf: given }),
    MaxLength(EMAIL_MAX, { message: `${field} must be at most ${EMAIL_MAX} characters`, validateIf: isText }),
    // Normalised here, once, for the route and everything it calls (src/users/email.ts).
    IsAcceptableEmail({ validateIf: textWithin(0, EMAIL_MAX) }),
    IsEmail({}, { message: `${field} must be an email address`, validateIf: acceptable }),
  );
}

/** A required password of `min` to PASSWORD_MAX characters, any characters. */
export function PasswordField(field: string, min: number, description?: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ format: 'password', minLength: min, maxLength: PASSWORD_MAX, description }),
    Required(field),
    IsString({ message: `${field} must be a string`, validateIf: given }),
    min === 1
      ? applyDecorators(
          MinLength(1, { message: `${field} must not be empty`, validateIf: isText }),
          MaxLength(PASSWORD_MAX, { message: `${field} must be at most ${PASSWORD_MAX} characters`, validateIf: isText }),
        )
      : Length(min, PASSWORD_MAX, { message: `${field} must be ${min} to ${PASSWORD_MAX} characters`, validateIf: isText }),
  );
}

export class LoginDto {
  @EmailField()
  email!: string;

  // Any length an existing password may have: the policy of new passwords is not checked here.
  @PasswordField('password', 1)
  password!: string;
}

/** An optional display name: trimmed, 1 to NAME_MAX characters, no control or invisible formatting characters. */
export const NameField = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ minLength: 1, maxLength: NAME_MAX, example: 'Ada Lovelace', description: 'Trimmed; no control or invisible formatting characters' }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value)),
    IsString({ message: 'name must be a string' }),
    Length(1, NAME_MAX, { message: `name must be 1 to ${NAME_MAX} characters`, validateIf: isText }),
    Matches(NO_CONTROL_CHARS, { message: 'name must not contain control characters', validateIf: textWithin(1, NAME_MAX) }),
  );

export class RegisterDto {
  @EmailField()
  email!: string;

  @PasswordField('password', PASSWORD_MIN)
  password!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: NAME_MAX, example: 'Ada Lovelace', description: 'Trimmed; no control or invisible formatting characters' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'name must be a string' })
  @Length(1, NAME_MAX, { message: `name must be 1 to ${NAME_MAX} characters`, validateIf: isText })
  @Matches(NO_CONTROL_CHARS, { message: 'name must not contain control characters', validateIf: textWithin(1, NAME_MAX) })
  name?: string;
}

export class RefreshTokenDto {
  @ApiPropertyOptional({ maxLength: REFRESH_TOKEN_MAX, description: 'Required, except in cookie mode (X-Auth-Mode: cookie), where the cookie carries it.' })
  @IsOptional()
  @IsString({ message: 'refreshToken must be a string' })
  // Far above a refresh token (43 characters), and above an access token sent here by
  // mistake (~550 with ES256, ~750 with RS256), which gets the 401 of an invalid token.
  @MaxLength(REFRESH_TOKEN_MAX, { message: `refreshToken must be at most ${REFRESH_TOKEN_MAX} characters`, validateIf: isText })
  refreshToken?: string;
}

export class ChangePasswordDto {
  @PasswordField('currentPassword', 1)
  currentPassword!: string;

  @PasswordField('newPassword', PASSWORD_MIN, 'Every other session of the user ends')
  newPassword!: string;
}
