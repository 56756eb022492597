import { ROLES, type Role } from '@nest-auth-backend/token-contract';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString } from 'class-validator';
import { given, omittedIfEmpty, Required } from '../../auth/dto/field-rules';

/**
 * POST /auth/introspect, form-encoded (RFC 7662 §2.1) or JSON. A field sent twice is not a
 * string: 400. `token=` is a missing token (omittedIfEmpty), a 400, not a token that is
 * inactive: RFC 7662 §2.1 makes it REQUIRED.
 */
export class IntrospectDto {
  @ApiProperty({ minLength: 1, description: 'The access token to check' })
  @Transform(omittedIfEmpty)
  @Required('token')
  @IsString({ message: 'token must be a string (sent once)', validateIf: given })
  token!: string;

  @ApiPropertyOptional({ description: 'RFC 7662 hint; only access tokens are introspected' })
  @Transform(omittedIfEmpty)
  @IsOptional()
  @IsString({ message: 'token_type_hint must be a string' })
  token_type_hint?: string;
}

export class IntrospectionDto {
  @ApiProperty({ description: 'false for anything revoked, expired, malformed or not ours' }) active!: boolean;
  @ApiPropertyOptional({ format: 'uuid' }) sub?: string;
  @ApiPropertyOptional({ format: 'uuid' }) sid?: string;
  @ApiPropertyOptional({ enum: ROLES, description: "The user's current role" }) role?: Role;
  @ApiPropertyOptional() iat?: number;
  @ApiPropertyOptional() exp?: number;
  @ApiPropertyOptional() iss?: string;
  @ApiPropertyOptional() aud?: string;
  @ApiPropertyOptional({ format: 'uuid' }) jti?: string;
  @ApiPropertyOptional({ description: "Epoch seconds of the session's last authentication" }) auth_time?: number;
  @ApiPropertyOptional({ type: [String], description: 'RFC 8176 authentication methods, e.g. ["pwd"]' }) amr?: string[];
  @ApiPropertyOptional({ enum: ['aal1', 'aal2'] }) acr?: string;
  @ApiPropertyOptional({ enum: ['access_token'] }) token_type?: string;
}
