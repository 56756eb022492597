import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiDatabase, ApiErrors, ApiJsonBody } from '../../common/api-docs';
import { Client, type ClientMeta } from '../../common/client-meta';
import { MAIL_NOT_CONFIGURED } from '../../mail/mail.service';
import { Public } from '../decorators/public.decorator';
import { AuthThrottlerGuard, OnlyLimits } from '../throttling/auth-throttling';
import { MAIL_THROTTLE } from './recovery-throttles';
import { AcceptedDto, EmailOnlyDto, ResetPasswordDto, VerifyEmailDto } from './recovery.dto';
import { INVALID_LINK, RecoveryService } from './recovery.service';

const UNAVAILABLE = `${MAIL_NOT_CONFIGURED}, or the database is unavailable`;

/** Settles once the response has been handed to the network (or the client went away). */
const answered = (reply: FastifyReply) =>
  new Promise<void>((resolve) => {
    reply.raw.once('finish', resolve);
    reply.raw.once('close', resolve);
  });

/** Account recovery and email verification (API.md, "Account recovery and email"). All public. */
@ApiTags('auth')
@ApiDatabase()
@Public()
@Controller('auth')
export class RecoveryController {
  constructor(private readonly recovery: RecoveryService) {}

  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(MAIL_THROTTLE.perIp, MAIL_THROTTLE.perEmail)
  @Post('password/forgot')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'The same `{}`, in the same time, whether the email is known or not; a known one gets a reset link' })
  @ApiJsonBody()
  @ApiErrors({ 429: 'Too many requests from this address or for this email; see Retry-After', 503: UNAVAILABLE })
  forgot(@Body() dto: EmailOnlyDto, @Client() client: ClientMeta, @Res({ passthrough: true }) reply: FastifyReply): AcceptedDto {
    this.recovery.requestPasswordReset(dto.email, client, answered(reply));
    return {};
  }

  @Post('password/reset')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Password set; refreshTokenVersion + 1 and every session of the user has ended' })
  @ApiJsonBody(`Invalid body, or \`${INVALID_LINK}\` (unknown, used, superseded or expired link: one message)`)
  @ApiErrors({ 503: 'Database unavailable, or too much password hashing at once (then with Retry-After)' })
  async reset(@Body() dto: ResetPasswordDto, @Client() client: ClientMeta): Promise<void> {
    await this.recovery.resetPassword(dto.token, dto.newPassword, client);
  }

  @Post('email/verify')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The address is verified (emailVerified: true)' })
  @ApiJsonBody(`Invalid body, or \`${INVALID_LINK}\` (unknown, used, superseded or expired link: one message)`)
  async verify(@Body() dto: VerifyEmailDto, @Client() client: ClientMeta): Promise<void> {
    await this.recovery.verifyEmail(dto.token, client);
  }

  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(MAIL_THROTTLE.perIp, MAIL_THROTTLE.perEmail)
  @Post('email/verify/resend')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'The same `{}` whatever the email and its state; an unverified account gets a new link' })
  @ApiJsonBody()
  @ApiErrors({ 429: 'Too many requests from this address or for this email; see Retry-After', 503: UNAVAILABLE })
  resend(@Body() dto: EmailOnlyDto, @Res({ passthrough: true }) reply: FastifyReply): AcceptedDto {
    this.recovery.resendVerification(dto.email, answered(reply));
    return {};
  }
}
