import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES, type Role } from '@nest-auth-backend/token-contract';
import { IsIn, ValidateIf } from 'class-validator';
import { PASSWORD_MIN } from '../../users/password-policy';
import { EmailField, NameField, PasswordField } from '../dto/credentials.dto';
import { VerifyEmailDto } from '../recovery/recovery.dto';

export class ChangeEmailDto {
  @EmailField('newEmail')
  newEmail!: string;
}

/** POST /auth/email/change/confirm: the token of the link mailed to the new address. */
export class ConfirmEmailChangeDto extends VerifyEmailDto {}

export class InviteDto {
  @EmailField()
  email!: string;

  @ApiPropertyOptional({ enum: ROLES, default: 'USER', description: 'The role of the account the invitation makes' })
  @ValidateIf((_, value) => value !== undefined)
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role?: Role;
}

export class AcceptInvitationDto extends VerifyEmailDto {
  @PasswordField('password', PASSWORD_MIN)
  password!: string;

  @NameField()
  name?: string;
}

/** An invitation as the admin API shows it: never its token. */
export class InvitationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ description: 'The link stops working then (INVITATION_TTL after it was sent)' }) expiresAt!: Date;
}

/** GET /admin/invitations: the pending ones, with who sent them and when. */
export class PendingInvitationDto extends InvitationDto {
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The admin who invited; null once that account is deleted' })
  invitedBy!: string | null;
}
