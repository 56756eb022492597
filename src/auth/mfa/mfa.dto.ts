import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsString, MaxLength, ValidateIf } from 'class-validator';
import { given, isText, Required } from '../dto/field-rules';
import { PasskeyDto } from '../passkeys/passkeys.dto';

/** Longer than any code we issue (a TOTP code 6, a recovery code 24 with its dashes); longer is refused unread. */
const CODE_MAX = 64;
const MFA_TOKEN_MAX = 128;
export const STEP_METHODS = ['totp', 'recovery_code', 'passkey'] as const;
const CHALLENGE_ID_MAX = 128;
const byAssertion = (dto: { method?: unknown }) => dto.method === 'passkey';

const CodeField = (description: string) =>
  applyDecorators(
    ApiProperty({ maxLength: CODE_MAX, example: '123456', description }),
    Required('code'),
    IsString({ message: 'code must be a string', validateIf: given }),
    MaxLength(CODE_MAX, { message: `code must be at most ${CODE_MAX} characters`, validateIf: isText }),
  );

export class TotpCodeDto {
  @CodeField('The 6-digit code the authenticator app shows now')
  code!: string;
}

/** POST /auth/login/mfa. */
export class LoginMfaDto {
  @ApiProperty({ maxLength: MFA_TOKEN_MAX, description: 'From the `mfaRequired` answer of POST /auth/login' })
  @Required('mfaToken')
  @IsString({ message: 'mfaToken must be a string', validateIf: given })
  @MaxLength(MFA_TOKEN_MAX, { message: `mfaToken must be at most ${MFA_TOKEN_MAX} characters`, validateIf: isText })
  mfaToken!: string;

  @ApiProperty({ enum: STEP_METHODS })
  @Required('method')
  @IsIn(STEP_METHODS, { message: `method must be one of: ${STEP_METHODS.join(', ')}`, validateIf: given })
  method!: (typeof STEP_METHODS)[number];

  @ValidateIf((dto: LoginMfaDto) => !byAssertion(dto))
  @CodeField('A TOTP code (method totp) or an unused recovery code (method recovery_code)')
  code?: string;

  @ApiProperty({ required: false, maxLength: CHALLENGE_ID_MAX, description: 'Method passkey: from POST /auth/login/mfa/passkey-options' })
  @ValidateIf(byAssertion)
  @Required('challengeId')
  @IsString({ message: 'challengeId must be a string', validateIf: given })
  @MaxLength(CHALLENGE_ID_MAX, { message: `challengeId must be at most ${CHALLENGE_ID_MAX} characters`, validateIf: isText })
  challengeId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Method passkey: the WebAuthn assertion (AuthenticationResponseJSON)' })
  @ValidateIf(byAssertion)
  @Required('response')
  @IsObject({ message: 'response must be an object', validateIf: given })
  response?: Record<string, unknown>;
}

export class TotpEnrollmentDto {
  @ApiProperty({ example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', description: 'Base32, 160 bits: shown once, for an app that cannot read the QR code' })
  secret!: string;
  @ApiProperty({
    example: 'otpauth://totp/Example:ada%40example.com?secret=…&issuer=Example',
    description: 'For the QR code (RFC 6238: SHA-1, 6 digits, 30 s)',
  })
  otpauthUri!: string;
}

export class RecoveryCodesDto {
  @ApiProperty({ type: [String], minItems: 10, maxItems: 10, description: 'Shown this once: each signs in once' })
  recoveryCodes!: string[];
}

class TotpStatusDto {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) confirmedAt!: string | null;
}

class RecoveryCodesStatusDto {
  @ApiProperty() remaining!: number;
}

export class MfaStatusDto {
  @ApiProperty({ type: TotpStatusDto }) totp!: TotpStatusDto;
  @ApiProperty({ type: RecoveryCodesStatusDto }) recoveryCodes!: RecoveryCodesStatusDto;
  @ApiProperty({ type: [PasskeyDto] }) passkeys!: PasskeyDto[];
}
