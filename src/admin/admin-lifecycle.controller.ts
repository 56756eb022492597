import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParam } from '../auth/decorators/uuid-param.decorator';
import { AccountDeletionService, LAST_ADMIN } from '../auth/lifecycle/account-deletion.service';
import { ACCOUNT_EXISTS, INVITATION_NOT_FOUND, InvitationsService } from '../auth/lifecycle/invitations.service';
import { InvitationDto, InviteDto, PendingInvitationDto } from '../auth/lifecycle/lifecycle.dto';
import { AcceptedDto } from '../auth/recovery/recovery.dto';
import { ACCOUNT_DISABLED, RecoveryService } from '../auth/recovery/recovery.service';
import { ApiDatabase, ApiErrors, ApiJsonBody } from '../common/api-docs';
import { Client, type ClientMeta } from '../common/client-meta';
import { MAIL_NOT_CONFIGURED } from '../mail/mail.service';
import { AdminOnly } from './admin-only.decorator';
import { USER_NOT_FOUND } from './admin-users.service';

const MAIL_OFF = `${MAIL_NOT_CONFIGURED}, or the database is unavailable`;

/** An admin's part of the account lifecycle (API.md, "Account lifecycle"): delete a user, send a reset mail, invitations. */
@AdminOnly()
@ApiDatabase()
@Controller('admin')
export class AdminLifecycleController {
  constructor(
    private readonly deletion: AccountDeletionService,
    private readonly recovery: RecoveryService,
    private readonly invitations: InvitationsService,
  ) {}

  @Delete('users/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'As DELETE /auth/me: the account is gone at once on every instance; the audit keeps its id' })
  @ApiErrors(401, 403, { 404: USER_NOT_FOUND, 409: LAST_ADMIN })
  async deleteUser(@UuidParam('id', USER_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.deletion.deleteByAdmin(admin, id, client);
  }

  @Post('users/:id/password-reset')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'The user is mailed a reset link (older ones voided); no session ends until it is used' })
  @ApiErrors(401, 403, { 404: USER_NOT_FOUND, 409: ACCOUNT_DISABLED, 503: MAIL_OFF })
  async passwordReset(@UuidParam('id', USER_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<AcceptedDto> {
    await this.recovery.adminReset(admin.id, id, client);
    return {};
  }

  @Post('invitations')
  @ApiCreatedResponse({
    type: InvitationDto,
    description: 'Mailed a link APP_URL/accept-invite#token=… (INVITATION_TTL); an earlier invitation of the address stops working',
  })
  @ApiJsonBody()
  @ApiErrors(401, 403, { 409: ACCOUNT_EXISTS, 503: MAIL_OFF })
  invite(@Body() dto: InviteDto, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<InvitationDto> {
    return this.invitations.invite(admin, dto, client);
  }

  @Get('invitations')
  @ApiOkResponse({ type: [PendingInvitationDto], description: 'Invitations not yet accepted, revoked or expired, newest first' })
  @ApiErrors(401, 403)
  listInvitations(): Promise<PendingInvitationDto[]> {
    return this.invitations.list();
  }

  @Delete('invitations/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Its link no longer works' })
  @ApiErrors(401, 403, { 404: INVITATION_NOT_FOUND })
  async revokeInvitation(@UuidParam('id', INVITATION_NOT_FOUND) id: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.invitations.revoke(admin, id, client);
  }
}
