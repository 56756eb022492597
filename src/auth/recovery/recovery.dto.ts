import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { EmailField, PasswordField } from '../dto/credentials.dto';
import { given, isText, Required } from '../dto/field-rules';
import { PASSWORD_MIN } from '../../users/password-policy';
import { UserDto } from '../../users/user.dto';

/** Far above a link token (43 characters): a longer string is refused as a bad body, a wrong one as a bad link. */
const TOKEN_MAX = 256;

const TokenField = (description: string) =>
  applyDecorators(
    ApiProperty({ maxLength: TOKEN_MAX, description }),
    Required('token'),
    IsString({ message: 'token must be a string', validateIf: given }),
    MaxLength(TOKEN_MAX, { message: `token must be at most ${TOKEN_MAX} characters`, validateIf: isText }),
  );

export class EmailOnlyDto {
  @EmailField()
  email!: string;
}

export class ResetPasswordDto {
  @TokenField('The token of the reset link (its fragment, `#token=…`)')
  token!: string;

  @PasswordField('newPassword', PASSWORD_MIN, 'Every session of the user ends')
  newPassword!: string;
}

export class VerifyEmailDto {
  @TokenField('The token of the verification link (its fragment, `#token=…`)')
  token!: string;
}

/** 202 of forgot and resend: the same empty object whatever the email. */
export class AcceptedDto {}

/** POST /auth/register with REQUIRE_VERIFIED_EMAIL=true: the account exists, no session until it is verified. */
export class VerificationRequiredDto {
  @ApiProperty({ type: UserDto }) user!: UserDto;
  @ApiProperty({ enum: [true] }) verificationRequired!: true;
}
