import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiBearer, ApiDatabase, ApiErrors, ApiJsonBody } from '../../common/api-docs';
import { Client, type ClientMeta } from '../../common/client-meta';
import type { AuthUser } from '../auth-user';
import { CurrentUser } from '../decorators/current-user.decorator';
import { AuthThrottlerGuard, OnlyLimits, THROTTLE } from '../throttling/auth-throttling';
import { ReauthenticateDto, ReauthenticatedDto } from './reauthenticate.dto';
import { ReauthenticationService } from './reauthentication.service';

/** POST /auth/reauthenticate (API.md, "Second factors, step-up and passkeys"). */
@ApiTags('auth')
@ApiDatabase()
@Controller('auth')
export class ReauthenticationController {
  constructor(private readonly reauthentication: ReauthenticationService) {}

  @ApiBearer(
    'Wrong password or code; the session has ended; or (RFC 9470, `WWW-Authenticate: Bearer error="insufficient_user_authentication"`, `acr_values="aal2"`) a password from a user who has a second factor',
  )
  // The password-change budget: one count of password guesses per user, whichever route takes them.
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.passwordPerUser)
  @Post('reauthenticate')
  @HttpCode(200)
  @ApiOkResponse({ type: ReauthenticatedDto, description: 'A new access token of the same session (same `sid`), `auth_time` now' })
  @ApiJsonBody('No password, or a `method` that is not one of the server’s')
  @ApiErrors({ 429: 'Too many attempts; see Retry-After' })
  reauthenticate(@Body() dto: ReauthenticateDto, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<ReauthenticatedDto> {
    return this.reauthentication.reauthenticate(me, dto, client);
  }
}
