import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiBearer, ApiDatabase, ApiErrors, ApiJsonBody } from '../../common/api-docs';
import { Client, type ClientMeta } from '../../common/client-meta';
import type { AuthUser } from '../auth-user';
import { CurrentUser } from '../decorators/current-user.decorator';
import { RequiresRecentAuth } from '../decorators/requires-recent-auth.decorator';
import { MfaStatusDto, RecoveryCodesDto, TotpCodeDto, TotpEnrollmentDto } from './mfa.dto';
import { MfaService, NO_SECOND_FACTOR, TOTP_ALREADY_ENABLED, TOTP_NOT_ENABLED, TOTP_WRONG_CODE } from './mfa.service';

/** /auth/mfa: the caller's second factors (API.md, "Second factors, step-up and passkeys"). */
@ApiTags('auth')
@ApiBearer()
@ApiDatabase()
@Controller('auth/mfa')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Get()
  @ApiOkResponse({ type: MfaStatusDto })
  status(@CurrentUser() me: AuthUser): Promise<MfaStatusDto> {
    return this.mfa.status(me);
  }

  @RequiresRecentAuth()
  @Post('totp')
  @ApiCreatedResponse({ type: TotpEnrollmentDto, description: 'A pending secret (a new call replaces a pending one) until POST /auth/mfa/totp/confirm' })
  @ApiErrors({ 409: TOTP_ALREADY_ENABLED })
  startTotp(@CurrentUser() me: AuthUser): Promise<TotpEnrollmentDto> {
    return this.mfa.startTotp(me);
  }

  @RequiresRecentAuth()
  @Post('totp/confirm')
  @HttpCode(200)
  @ApiOkResponse({ type: RecoveryCodesDto, description: 'TOTP is on; the recovery codes are shown this once; every other session of the user has ended' })
  @ApiJsonBody(`code is missing, or ${TOTP_WRONG_CODE}`)
  confirmTotp(@Body() dto: TotpCodeDto, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<RecoveryCodesDto> {
    return this.mfa.confirmTotp(me, dto.code, client);
  }

  @RequiresRecentAuth()
  @Delete('totp')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'TOTP is off and its recovery codes are gone; every other session of the user has ended' })
  @ApiErrors({ 404: TOTP_NOT_ENABLED })
  async disableTotp(@CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.mfa.disableTotp(me, client);
  }

  @RequiresRecentAuth()
  @Post('recovery-codes')
  @HttpCode(200)
  @ApiOkResponse({
    type: RecoveryCodesDto,
    description: 'A new set, shown this once; the previous set no longer works; every other session of the user has ended',
  })
  @ApiErrors({ 409: NO_SECOND_FACTOR })
  regenerate(@CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<RecoveryCodesDto> {
    return this.mfa.regenerateCodes(me, client);
  }
}
