import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, Matches, MaxLength, ValidateIf } from 'class-validator';
import { given, HttpUrl, isText, Required, textWithin } from '../../auth/dto/field-rules';

const NAME_MAX = 100;
const URI_MAX = 2048;
const NO_CONTROL_CHARS = /^(?:[^\p{Cc}\p{Cf}]|\u200D)*$/u;

/** POST /admin/clients. */
export class CreateClientDto {
  @ApiProperty({ minLength: 1, maxLength: NAME_MAX, example: 'billing-service', description: 'Trimmed; for people reading the list and the audit log' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @Required('name')
  @IsString({ message: 'name must be a string', validateIf: given })
  @Length(1, NAME_MAX, { message: `name must be 1 to ${NAME_MAX} characters`, validateIf: isText })
  @Matches(NO_CONTROL_CHARS, { message: 'name must not contain control characters', validateIf: textWithin(1, NAME_MAX) })
  name!: string;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'uri', maxLength: URI_MAX, description: 'http(s) URL that receives back-channel logout tokens' })
  @ValidateIf((_, value) => value !== undefined && value !== null)
  @IsString({ message: 'backchannelLogoutUri must be a string' })
  @MaxLength(URI_MAX, { message: `backchannelLogoutUri must be at most ${URI_MAX} characters`, validateIf: isText })
  @HttpUrl('backchannelLogoutUri', textWithin(0, URI_MAX))
  backchannelLogoutUri?: string | null;
}

export class ClientDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The HTTP Basic user name of the service' }) clientId!: string;
  @ApiProperty({ type: String, nullable: true }) backchannelLogoutUri!: string | null;
  @ApiProperty() createdAt!: Date;
}

export class CreatedClientDto extends ClientDto {
  @ApiProperty({ description: 'Shown once, never again: stored only as its SHA-256' }) clientSecret!: string;
}

export class ClientsDto {
  @ApiProperty({ type: [ClientDto], description: 'Oldest first; never a secret' }) items!: ClientDto[];
}

export class ClientSecretDto {
  @ApiProperty({ description: 'The new secret, shown once; the previous one keeps working for 24 h' }) clientSecret!: string;
}
