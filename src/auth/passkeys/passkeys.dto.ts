import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { given, isText, Required } from '../dto/field-rules';
import type { Passkey as PasskeyRow } from './passkeys.repository';

const CHALLENGE_ID_MAX = 128;
const MFA_TOKEN_MAX = 128;
export const PASSKEY_NAME_MAX = 64;

/** API.md's Passkey: never the key, the credential id or the counter. */
export class PasskeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ maxLength: PASSKEY_NAME_MAX }) name!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt!: string | null;
  @ApiProperty({ description: 'The credential is backed up (synced) now' }) backedUp!: boolean;
  @ApiProperty({ type: [String], example: ['internal', 'hybrid'] }) transports!: string[];

  static from(row: PasskeyRow): PasskeyDto {
    return {
      id: row.id,
      name: row.name,
      createdAt: row.createdAt.toISOString(),
      lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
      backedUp: row.backedUp,
      transports: row.transports,
    };
  }
}

export class PasskeyListDto {
  @ApiProperty({ type: [PasskeyDto] }) items!: PasskeyDto[];
}

/** A ceremony's options and the id of its challenge, to send back with the answer. */
export class WebauthnOptionsDto {
  @ApiProperty({ description: 'Opaque: send it back with the answer (single use, 5 minutes)' }) challengeId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'WebAuthn options (JSON form) for navigator.credentials.create/get' })
  options!: object;
}

const ChallengeIdField = () => (target: object, key: string) => {
  ApiProperty({ maxLength: CHALLENGE_ID_MAX })(target, key);
  Required('challengeId')(target, key);
  IsString({ message: 'challengeId must be a string', validateIf: given })(target, key);
  MaxLength(CHALLENGE_ID_MAX, { message: `challengeId must be at most ${CHALLENGE_ID_MAX} characters`, validateIf: isText })(target, key);
};
const ResponseField = (what: string) => (target: object, key: string) => {
  ApiProperty({ type: 'object', additionalProperties: true, description: what })(target, key);
  Required('response')(target, key);
  IsObject({ message: 'response must be an object', validateIf: given })(target, key);
};

export class PasskeyRegistrationDto {
  @ChallengeIdField() challengeId!: string;
  @ResponseField('The RegistrationResponseJSON of navigator.credentials.create') response!: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: PASSKEY_NAME_MAX, description: 'Default: "Passkey"' })
  @IsOptional()
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty', validateIf: isText })
  @MaxLength(PASSKEY_NAME_MAX, { message: `name must be at most ${PASSKEY_NAME_MAX} characters`, validateIf: isText })
  name?: string;
}

export class RenamePasskeyDto {
  @ApiProperty({ maxLength: PASSKEY_NAME_MAX })
  @Required('name')
  @IsString({ message: 'name must be a string', validateIf: given })
  @IsNotEmpty({ message: 'name must not be empty', validateIf: isText })
  @MaxLength(PASSKEY_NAME_MAX, { message: `name must be at most ${PASSKEY_NAME_MAX} characters`, validateIf: isText })
  name!: string;
}

/** POST /auth/passkeys/authentication. */
export class PasskeyAssertionDto {
  @ChallengeIdField() challengeId!: string;
  @ResponseField('The AuthenticationResponseJSON of navigator.credentials.get') response!: Record<string, unknown>;
}

/** POST /auth/login/mfa/passkey-options. */
export class PasskeyStepOptionsDto {
  @ApiProperty({ maxLength: MFA_TOKEN_MAX, description: 'From the `mfaRequired` answer of POST /auth/login' })
  @Required('mfaToken')
  @IsString({ message: 'mfaToken must be a string', validateIf: given })
  @MaxLength(MFA_TOKEN_MAX, { message: `mfaToken must be at most ${MFA_TOKEN_MAX} characters`, validateIf: isText })
  mfaToken!: string;
}
