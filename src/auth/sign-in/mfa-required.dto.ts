import { ApiProperty } from '@nestjs/swagger';

/** POST /auth/login when the policy wants a further step (API.md, "Second factors"): no session yet. */
export class MfaRequiredDto {
  @ApiProperty({ enum: [true] }) mfaRequired!: true;
  @ApiProperty({ description: 'Opaque (256 bits): names this pending sign-in in its next step' }) mfaToken!: string;
  @ApiProperty({ type: [String], example: ['totp', 'recovery_code', 'passkey'], description: 'The further steps this user can take' })
  methods!: string[];
  @ApiProperty({ description: 'Seconds the mfaToken lives' }) expiresIn!: number;
}
