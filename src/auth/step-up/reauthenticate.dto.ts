import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { PASSWORD_MAX } from '../../users/password-policy';
import { isText } from '../dto/field-rules';

/**
 * POST /auth/reauthenticate: `{ password }`, or `{ method, code }` (a second factor's code),
 * or `{ method: "passkey", challengeId, response }`. Which fields a method needs is the
 * method's to check (SignInMethod.reauthenticate); here only their types.
 */
export class ReauthenticateDto {
  @ApiPropertyOptional({
    description: 'The sign-in method to prove again: `password` (the default), or a second factor (`totp`, `recovery_code`, `passkey`) the user has',
  })
  @IsOptional()
  @IsString({ message: 'method must be a string' })
  @MaxLength(64, { message: 'method must be at most 64 characters', validateIf: isText })
  method?: string;

  @ApiPropertyOptional({ format: 'password', maxLength: PASSWORD_MAX, description: 'With `method` password (or none)' })
  @IsOptional()
  @IsString({ message: 'password must be a string' })
  @MaxLength(PASSWORD_MAX, { message: `password must be at most ${PASSWORD_MAX} characters`, validateIf: isText })
  password?: string;

  @ApiPropertyOptional({ description: 'With `method` totp or recovery_code' })
  @IsOptional()
  @IsString({ message: 'code must be a string' })
  @MaxLength(64, { message: 'code must be at most 64 characters', validateIf: isText })
  code?: string;

  @ApiPropertyOptional({ description: 'With `method` passkey: from POST /auth/passkeys/authentication/options' })
  @IsOptional()
  @IsString({ message: 'challengeId must be a string' })
  @MaxLength(128, { message: 'challengeId must be at most 128 characters', validateIf: isText })
  challengeId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'With `method` passkey: the WebAuthn assertion' })
  @IsOptional()
  @IsObject({ message: 'response must be an object' })
  response?: Record<string, unknown>;
}

/** The new access token of the same session (same `sid`), `auth_time` now. No refresh token: the session's stays. */
export class ReauthenticatedDto {
  @ApiProperty() accessToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime, seconds' }) expiresIn!: number;
}
