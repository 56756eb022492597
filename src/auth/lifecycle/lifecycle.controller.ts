import { Body, Controller, Delete, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiBearer, ApiDatabase, ApiErrors, ApiJsonBody } from '../../common/api-docs';
import { Client, type ClientMeta } from '../../common/client-meta';
import { MAIL_NOT_CONFIGURED } from '../../mail/mail.service';
import type { AuthUser } from '../auth-user';
import { CurrentUser } from '../decorators/current-user.decorator';
import { Public } from '../decorators/public.decorator';
import { RequiresRecentAuth } from '../decorators/requires-recent-auth.decorator';
import { TokenResponseDto } from '../dto/token-response.dto';
import { MAIL_THROTTLE } from '../recovery/recovery-throttles';
import { AcceptedDto } from '../recovery/recovery.dto';
import { INVALID_LINK } from '../recovery/recovery.service';
import { AuthThrottlerGuard, OnlyLimits, THROTTLE } from '../throttling/auth-throttling';
import { RefreshTransport } from '../transport/refresh-transport';
import { AccountDeletionService, LAST_ADMIN } from './account-deletion.service';
import { EMAIL_TAKEN_MEANWHILE, EmailChangeService, SAME_EMAIL } from './email-change.service';
import { ACCOUNT_EXISTS, INVALID_INVITATION, InvitationsService } from './invitations.service';
import { AcceptInvitationDto, ChangeEmailDto, ConfirmEmailChangeDto } from './lifecycle.dto';

const NOT_RECENT =
  'No valid access token, or RFC 9470 `insufficient_user_authentication`: the token is not recent (REAUTH_MAX_AGE), or not aal2 for a user with a second factor';

/** The account's own lifecycle routes under /auth (API.md, "Account lifecycle"): email change, deletion, accepting an invitation. */
@ApiTags('auth')
@ApiDatabase()
@Controller('auth')
export class AccountLifecycleController {
  constructor(
    private readonly emails: EmailChangeService,
    private readonly deletion: AccountDeletionService,
    private readonly invitations: InvitationsService,
    private readonly transport: RefreshTransport,
  ) {}

  @ApiBearer(NOT_RECENT)
  @RequiresRecentAuth()
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(MAIL_THROTTLE.perIp)
  @Post('email/change')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'A link to the new address (APP_URL/confirm-email#token=…), a notice to the current one' })
  @ApiJsonBody(`Invalid body, or ${SAME_EMAIL}`)
  @ApiErrors({
    409: 'Email already registered',
    429: 'Too many mail requests from this address; see Retry-After',
    503: `${MAIL_NOT_CONFIGURED}, or the database is unavailable`,
  })
  async changeEmail(@Body() dto: ChangeEmailDto, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<AcceptedDto> {
    await this.emails.request(me, dto.newEmail, client);
    return {};
  }

  @Public()
  @Post('email/change/confirm')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The account has the new address (emailVerified: true); every session but the one that asked has ended' })
  @ApiJsonBody(`Invalid body, \`${INVALID_LINK}\` (unknown, used, superseded or expired link: one message), or \`${EMAIL_TAKEN_MEANWHILE}\``)
  async confirmEmail(@Body() dto: ConfirmEmailChangeDto, @Client() client: ClientMeta): Promise<void> {
    await this.emails.confirm(dto.token, client);
  }

  @ApiBearer(NOT_RECENT)
  @RequiresRecentAuth()
  @Delete('me')
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'The account is gone, with its sessions, factors and identities, at once on every instance; the audit keeps its id, not its address',
  })
  @ApiErrors({ 409: LAST_ADMIN })
  async deleteMe(@CurrentUser() me: AuthUser, @Client() client: ClientMeta, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.deletion.deleteOwn(me, client);
    this.transport.clear(reply);
  }

  @Public()
  // Hashes a password: throttled as a registration.
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.registerPerIp)
  @Post('invitations/accept')
  @ApiHeader({ name: 'X-Auth-Mode', enum: ['cookie'], required: false, description: '`cookie`: the refresh token travels only in an HttpOnly cookie' })
  @ApiCreatedResponse({ type: TokenResponseDto, description: 'The account, with the invited role and a verified address, and its first session' })
  @ApiJsonBody(`Invalid body, \`${INVALID_INVITATION}\` (one message), or ${ACCOUNT_EXISTS}`)
  @ApiErrors({ 429: 'Too many registrations from this address; see Retry-After' })
  async acceptInvitation(
    @Body() dto: AcceptInvitationDto,
    @Client() client: ClientMeta,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto> {
    return this.transport.deliver(req, reply, await this.invitations.accept(dto, client));
  }
}
