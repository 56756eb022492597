import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { isText } from '../dto/field-rules';

export class ProviderDto {
  @ApiProperty({ example: 'google', description: 'In /auth/oidc/:provider/… and on linked identities' }) id!: string;
  @ApiProperty({ example: 'Google', description: 'What the "Sign in with" button says' }) name!: string;
}

/** GET /auth/providers. */
export class ProvidersDto {
  @ApiProperty({ type: [ProviderDto] }) items!: ProviderDto[];
}

/** POST /auth/oidc/:provider/link. */
export class LinkProviderDto {
  @ApiPropertyOptional({
    maxLength: 2048,
    example: '/console/account',
    description: 'Where the browser goes once linked (default `/`): a path, or a URL of APP_URL or CORS_ORIGINS',
  })
  @IsOptional()
  @IsString({ message: 'redirect must be a string' })
  @MaxLength(2048, { message: 'redirect must be at most 2048 characters', validateIf: isText })
  redirect?: string;
}

export class LinkUrlDto {
  @ApiProperty({ description: "The provider's authorization URL: open it in the browser that called (the flow cookie this answer set binds it)" })
  url!: string;
}

export class IdentityDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'google', description: "The provider's id in OIDC_PROVIDERS" }) provider!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The email the provider gave when it was linked' }) email!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** GET /auth/identities. */
export class IdentitiesDto {
  @ApiProperty({ type: [IdentityDto] }) items!: IdentityDto[];
}
