import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Req, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtraModels, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiBearer, ApiDatabase, ApiErrors, ApiJsonBody } from '../../common/api-docs';
import { Client, type ClientMeta } from '../../common/client-meta';
import type { AuthUser } from '../auth-user';
import { AuthService } from '../auth.service';
import { CurrentUser } from '../decorators/current-user.decorator';
import { Public } from '../decorators/public.decorator';
import { RequiresRecentAuth } from '../decorators/requires-recent-auth.decorator';
import { UuidParam } from '../decorators/uuid-param.decorator';
import { TokenResponseDto } from '../dto/token-response.dto';
import { MfaRequiredDto } from '../sign-in/mfa-required.dto';
import { AuthThrottlerGuard, OnlyLimits, THROTTLE } from '../throttling/auth-throttling';
import { DeviceCookies } from '../throttling/device-cookie';
import { RefreshTransport } from '../transport/refresh-transport';
import { OptionalBearerGuard } from './optional-bearer.guard';
import { PASSKEY_OPTIONS_PER_IP } from './passkey-throttles';
import { PasskeySignInGuard } from './passkey-sign-in.guard';
import {
  PasskeyAssertionDto,
  PasskeyDto,
  PasskeyListDto,
  PasskeyRegistrationDto,
  PasskeyStepOptionsDto,
  RenamePasskeyDto,
  WebauthnOptionsDto,
} from './passkeys.dto';
import { MFA_TOKEN_INVALID, PASSKEY_NOT_FOUND, PASSKEY_SIGN_IN_FAILED, PasskeysService, REGISTRATION_FAILED } from './passkeys.service';

const ApiCookieMode = () =>
  ApiHeader({ name: 'X-Auth-Mode', enum: ['cookie'], required: false, description: '`cookie`: the refresh token travels only in an HttpOnly cookie' });

/** /auth/passkeys and the passkey's second step (API.md, "Second factors, step-up and passkeys"). HTTP concerns only. */
@ApiTags('auth')
@ApiDatabase()
@Controller('auth')
export class PasskeysController {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly auth: AuthService,
    private readonly transport: RefreshTransport,
    private readonly devices: DeviceCookies,
  ) {}

  @ApiBearer()
  @RequiresRecentAuth()
  @Post('passkeys/registration/options')
  @HttpCode(200)
  @ApiOkResponse({ type: WebauthnOptionsDto, description: 'Creation options: resident key and user verification required, the user’s passkeys excluded' })
  registrationOptions(@CurrentUser() me: AuthUser): Promise<WebauthnOptionsDto> {
    return this.passkeys.registrationOptions(me);
  }

  @ApiBearer()
  @RequiresRecentAuth()
  @Post('passkeys/registration')
  @ApiCreatedResponse({ type: PasskeyDto })
  @ApiJsonBody(`A field missing or invalid, or ${REGISTRATION_FAILED}`)
  register(@Body() dto: PasskeyRegistrationDto, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<PasskeyDto> {
    return this.passkeys.register(me, dto, client);
  }

  @ApiBearer()
  @Get('passkeys')
  @ApiOkResponse({ type: PasskeyListDto })
  async list(@CurrentUser() me: AuthUser): Promise<PasskeyListDto> {
    return { items: await this.passkeys.list(me) };
  }

  @ApiBearer()
  @Patch('passkeys/:id')
  @ApiOkResponse({ type: PasskeyDto })
  @ApiJsonBody()
  @ApiErrors({ 404: PASSKEY_NOT_FOUND })
  rename(@UuidParam('id', PASSKEY_NOT_FOUND) id: string, @Body() dto: RenamePasskeyDto, @CurrentUser() me: AuthUser): Promise<PasskeyDto> {
    return this.passkeys.rename(me, id, dto.name);
  }

  @ApiBearer()
  @RequiresRecentAuth()
  @Delete('passkeys/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The passkey is removed; every other session of the user has ended' })
  @ApiErrors({ 404: PASSKEY_NOT_FOUND })
  async remove(@UuidParam('id', PASSKEY_NOT_FOUND) id: string, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.passkeys.remove(me, id, client);
  }

  @Public()
  @UseGuards(OptionalBearerGuard, AuthThrottlerGuard)
  @OnlyLimits(PASSKEY_OPTIONS_PER_IP)
  @Post('passkeys/authentication/options')
  @HttpCode(200)
  @ApiOkResponse({
    type: WebauthnOptionsDto,
    description:
      'Without a token: a usernameless sign-in (no credentials listed, nothing to enumerate). With a bearer token: for POST /auth/reauthenticate (the user’s passkeys listed, the challenge bound to the user)',
  })
  @ApiErrors({ 401: 'An Authorization header with an invalid access token' }, 429)
  authenticationOptions(@Req() req: FastifyRequest & { user?: AuthUser }): Promise<WebauthnOptionsDto> {
    return this.passkeys.authenticationOptions(req.user);
  }

  @Public()
  // The account named by its credential, then throttled as a login, before the assertion is checked.
  @UseGuards(PasskeySignInGuard, AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.loginPerIp, THROTTLE.loginPerAccount)
  @Post('passkeys/authentication')
  @HttpCode(200)
  @ApiCookieMode()
  @ApiExtraModels(TokenResponseDto, MfaRequiredDto)
  @ApiOkResponse({ type: TokenResponseDto, description: 'The token response: `amr` `["hwk" or "swk", "user", "mfa"]`, `acr: "aal2"`, no second step' })
  @ApiJsonBody()
  @ApiErrors({ 401: `${PASSKEY_SIGN_IN_FAILED} (one message: unknown credential, bad signature, no user verification, used or expired challenge…)` }, 429)
  async signIn(
    @Body() dto: PasskeyAssertionDto,
    @Req() req: FastifyRequest,
    @Client() client: ClientMeta,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto> {
    const failed = () => new UnauthorizedException(PASSKEY_SIGN_IN_FAILED);
    const grant = await this.auth.loginWith((tx) => this.passkeys.proveSignIn(tx, dto, client), failed, client);
    // A passkey reaches aal2 by itself: the policy has nothing more to ask (a rule that did would be a bug: fail closed).
    if ('mfaRequired' in grant) throw failed();
    const body = this.transport.deliver(req, reply, grant);
    this.devices.remember(req, reply, grant.response.user.email);
    return body;
  }

  @Public()
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(PASSKEY_OPTIONS_PER_IP)
  @Post('login/mfa/passkey-options')
  @HttpCode(200)
  @ApiOkResponse({ type: WebauthnOptionsDto, description: 'Request options listing this user’s passkeys, the challenge bound to this pending sign-in' })
  @ApiJsonBody()
  @ApiErrors({ 401: `${MFA_TOKEN_INVALID}, or a passkey is not among its methods` }, 429)
  stepOptions(@Body() dto: PasskeyStepOptionsDto): Promise<WebauthnOptionsDto> {
    return this.passkeys.stepOptions(dto.mfaToken);
  }
}
