import { BadRequestException, Body, Controller, Get, HttpCode, Post, Req, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ApiConsumes, ApiCreatedResponse, ApiExtraModels, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { RouteSchema } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiBearer, ApiDatabase, ApiErrors, ApiJsonBody, ApiRefreshCookie } from '../common/api-docs';
import { Client, type ClientMeta } from '../common/client-meta';
import { USER_JSON_SCHEMA, UserDto } from '../users/user.dto';
import type { AuthUser } from './auth-user';
import { AuthService } from './auth.service';
import { CurrentUser } from './decorators/current-user.decorator';
import { Public } from './decorators/public.decorator';
import { ChangePasswordDto, LoginDto, RefreshTokenDto, RegisterDto } from './dto/credentials.dto';
import { NO_TOKEN_TO_REVOKE, RevokeDto } from './dto/revoke.dto';
import { TokenResponseDto } from './dto/token-response.dto';
import { LocalAuthGuard } from './guards/local-auth.guard';
import { LoginMfaDto } from './mfa/mfa.dto';
import { VerificationRequiredDto } from './recovery/recovery.dto';
import { MfaRequiredDto } from './sign-in/mfa-required.dto';
import { MfaStepGuard } from './sign-in/mfa-step.guard';
import { Proven } from './sign-in/proven.decorator';
import type { SignInFacts } from './sign-in/sign-in-facts';
import { MFA_FAILED } from './sign-in/sign-in.service';
import { RecentIfSecondFactor } from './step-up/recent-if-second-factor.decorator';
import { AuthThrottlerGuard, OnlyLimits, THROTTLE } from './throttling/auth-throttling';
import { DeviceCookies } from './throttling/device-cookie';
import { RefreshTransport } from './transport/refresh-transport';

/** On the routes that read it (RefreshTransport.isCookieMode): the refresh token's transport. */
const ApiCookieMode = () =>
  ApiHeader({ name: 'X-Auth-Mode', enum: ['cookie'], required: false, description: '`cookie`: the refresh token travels only in an HttpOnly cookie' });
const COOKIE_WITHOUT_HEADER = 'Refresh cookie sent without X-Auth-Mode: cookie';
/** Routes that hash or verify a password also shed work when hashing is saturated (HashingGate). */
const DATABASE_OR_BUSY = 'Database unavailable, or too much password hashing at once (then with Retry-After)';

/** /auth (API.md, "Auth"). HTTP concerns only: the flows live in AuthService. */
@ApiTags('auth')
@ApiDatabase()
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly transport: RefreshTransport,
    private readonly devices: DeviceCookies,
  ) {}

  @Public()
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.registerPerIp)
  @Post('register')
  @ApiCookieMode()
  @ApiExtraModels(TokenResponseDto, VerificationRequiredDto)
  @ApiCreatedResponse({
    description: 'The token response; with REQUIRE_VERIFIED_EMAIL=true, `{ user, verificationRequired: true }` and no session until the address is verified',
    schema: { oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(VerificationRequiredDto) }] },
  })
  @ApiJsonBody()
  @ApiErrors({
    403: 'Registration is disabled (REGISTRATION_ENABLED=false)',
    409: 'Email already registered',
    429: 'Too many registrations from this address; see Retry-After',
    503: DATABASE_OR_BUSY,
  })
  async register(
    @Body() dto: RegisterDto,
    @Client() client: ClientMeta,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto | VerificationRequiredDto> {
    const registered = await this.auth.register(dto, client);
    return 'verificationRequired' in registered ? registered : this.transport.deliver(req, reply, registered);
  }

  @Public()
  // Throttled before the password is checked, so that failed attempts count.
  @UseGuards(AuthThrottlerGuard, LocalAuthGuard)
  @OnlyLimits(THROTTLE.loginPerIp, THROTTLE.loginPerAccount)
  @Post('login')
  @HttpCode(200)
  @ApiCookieMode()
  @ApiExtraModels(TokenResponseDto, MfaRequiredDto)
  @ApiOkResponse({
    description:
      'The token response; when the sign-in needs a further step (a second factor), `{ mfaRequired: true, mfaToken, methods, expiresIn }` and no session',
    schema: { oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(MfaRequiredDto) }] },
  })
  @ApiJsonBody()
  @ApiErrors(
    {
      401: 'Unknown email, wrong password or disabled account (one message)',
      403: 'REQUIRE_VERIFIED_EMAIL=true, the password was right, and the address is not verified yet (or a further step is required that the account cannot take)',
      503: DATABASE_OR_BUSY,
    },
    429,
  )
  async login(
    @Body() _credentials: LoginDto,
    @Proven() facts: SignInFacts,
    @Req() req: FastifyRequest,
    @Client() client: ClientMeta,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto | MfaRequiredDto> {
    const grant = await this.auth.login(facts, client);
    // A further step first: no session yet, so no refresh token, no cookie, no device.
    if ('mfaRequired' in grant) return grant;
    const body = this.transport.deliver(req, reply, grant);
    // This client has now signed in to the account: its own login budget from here on.
    this.devices.remember(req, reply, grant.response.user.email);
    return body;
  }

  /** The second step of a sign-in that answered `mfaRequired`: only now a session, a refresh token, a cookie, a device. */
  @Public()
  // The body checked and the account named first, then throttled as a login, before the code is checked.
  @UseGuards(MfaStepGuard, AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.loginPerIp, THROTTLE.loginPerAccount)
  @Post('login/mfa')
  @HttpCode(200)
  @ApiCookieMode()
  @ApiOkResponse({ type: TokenResponseDto, description: 'The token response, `acr: "aal2"`, `amr` `["pwd", "otp", "mfa"]`' })
  @ApiJsonBody('mfaToken, method or code missing, or an unknown method')
  @ApiErrors({ 401: `${MFA_FAILED}: a wrong, replayed or used code, an expired or burnt mfaToken (one message)` }, 429)
  async loginMfa(
    @Body() dto: LoginMfaDto,
    @Req() req: FastifyRequest,
    @Client() client: ClientMeta,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto> {
    const grant = await this.auth.loginStep(dto, client);
    const body = this.transport.deliver(req, reply, grant);
    this.devices.remember(req, reply, grant.response.user.email);
    return body;
  }

  @Public()
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.refreshPerIp)
  @Post('refresh')
  @HttpCode(200)
  @ApiCookieMode()
  @ApiRefreshCookie()
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiJsonBody()
  @ApiErrors({ 401: 'Missing, invalid, expired, revoked or reused refresh token', 403: COOKIE_WITHOUT_HEADER }, 429)
  async refresh(
    @Body() dto: RefreshTokenDto,
    @Req() req: FastifyRequest,
    @Client() client: ClientMeta,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto> {
    const token = this.transport.read(req, dto.refreshToken);
    // The console tells "no session in this browser" from "its session has ended" by this message (console/src/api.ts).
    if (!token) throw new UnauthorizedException('Missing refresh token');
    return this.transport.deliver(req, reply, await this.auth.refresh(token, client));
  }

  /**
   * RFC 7009: its form request (`token`, `token_type_hint`) or JSON, and 200 whatever the
   * token, so it cannot be used to probe tokens. A form is safe to accept here although
   * other routes refuse it (a cross-site HTML form sends one without a preflight): such a
   * form knows no token, and the refresh cookie is read only with X-Auth-Mode, which no
   * form can send.
   */
  @Public()
  @Post('revoke')
  @HttpCode(200)
  @ApiCookieMode()
  @ApiRefreshCookie()
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ description: 'The token is no longer valid (whether or not it was, or was ours at all)' })
  @ApiErrors(
    {
      400: 'No token (in the body, or the cookie in cookie mode; an empty one is none), or a field that is not one string',
      403: COOKIE_WITHOUT_HEADER,
      415: 'Send application/x-www-form-urlencoded or application/json',
    },
    413,
  )
  async revoke(
    @Body() dto: RevokeDto,
    @Req() req: FastifyRequest,
    @Client() client: ClientMeta,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const token = this.transport.read(req, dto.token ?? dto.refreshToken);
    if (!token) throw new BadRequestException([NO_TOKEN_TO_REVOKE]);
    await this.auth.revoke(token, client);
    if (this.transport.isCookieMode(req)) this.transport.clear(reply);
  }

  @ApiBearer()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The current session has ended' })
  async logout(@CurrentUser() me: AuthUser, @Client() client: ClientMeta, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.auth.logout(me, client);
    this.transport.clear(reply);
  }

  @ApiBearer()
  @Post('logout-all')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every session of the user has ended' })
  async logoutAll(@CurrentUser() me: AuthUser, @Client() client: ClientMeta, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.auth.logoutAll(me, client);
    this.transport.clear(reply);
  }

  @ApiBearer(
    'Current password is incorrect, or no valid access token; for a user with a second factor, RFC 9470 `insufficient_user_authentication` when the token is not recent (REAUTH_MAX_AGE) or not aal2',
  )
  @RecentIfSecondFactor()
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.passwordPerUser)
  @Post('password')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Password changed; every other session has ended, this one goes on' })
  @ApiJsonBody()
  @ApiErrors({ 429: 'Too many password-change attempts; see Retry-After', 503: DATABASE_OR_BUSY })
  async changePassword(@Body() dto: ChangePasswordDto, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.auth.changePassword(me, dto, client);
  }

  @ApiBearer()
  @Get('me')
  @ApiOkResponse({ type: UserDto })
  @RouteSchema({ response: { 200: USER_JSON_SCHEMA } })
  me(@CurrentUser() me: AuthUser): Promise<UserDto> {
    return this.auth.me(me);
  }
}
