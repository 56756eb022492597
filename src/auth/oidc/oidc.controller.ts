import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiFoundResponse, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiBearer, ApiDatabase, ApiErrors, ApiJsonBody } from '../../common/api-docs';
import { Client, type ClientMeta } from '../../common/client-meta';
import type { AuthUser } from '../auth-user';
import { CurrentUser } from '../decorators/current-user.decorator';
import { Public } from '../decorators/public.decorator';
import { RequiresRecentAuth } from '../decorators/requires-recent-auth.decorator';
import { UuidParam } from '../decorators/uuid-param.decorator';
import { AuthThrottlerGuard, OnlyLimits, THROTTLE } from '../throttling/auth-throttling';
import { DeviceCookies } from '../throttling/device-cookie';
import { RefreshTransport } from '../transport/refresh-transport';
import { FlowCookies } from './flow-cookie';
import { IdentitiesDto, LinkProviderDto, LinkUrlDto, ProvidersDto } from './oidc.dto';
import { OIDC_ERROR_CODES } from './oidc-errors';
import { OidcProviders } from './oidc-providers';
import {
  IDENTITY_NOT_FOUND,
  LAST_WAY_TO_SIGN_IN,
  NO_MATCHING_FLOW,
  OidcService,
  PROVIDER_UNAVAILABLE,
  REDIRECT_NOT_ALLOWED,
  UNKNOWN_PROVIDER,
} from './oidc.service';

const ProviderParam = () => ApiParam({ name: 'provider', description: "A provider's id in OIDC_PROVIDERS (GET /auth/providers)" });
const ERROR_CODES = Object.keys(OIDC_ERROR_CODES).join(', ');

/** A redirect the browser follows; the callback's URL holds a code, so it is not passed on as a Referer. */
function redirect(reply: FastifyReply, location: string): void {
  void reply.code(302).header('location', location).header('referrer-policy', 'no-referrer').send();
}

/**
 * Sign-in with other providers and linked identities (API.md, "Sign-in with other providers
 * (OpenID Connect)"). HTTP concerns only (cookies, redirects): the flow lives in OidcService.
 * The providers' list and the start read no database (the configuration, the provider):
 * they answer while it is away.
 */
@ApiTags('auth')
@Controller('auth')
export class OidcController {
  constructor(
    private readonly oidc: OidcService,
    private readonly providers: OidcProviders,
    private readonly cookies: FlowCookies,
    private readonly transport: RefreshTransport,
    private readonly devices: DeviceCookies,
  ) {}

  @Public()
  @Get('providers')
  @ApiOkResponse({ type: ProvidersDto, description: 'The providers of OIDC_PROVIDERS (id and name only)' })
  listProviders(): ProvidersDto {
    return { items: this.providers.list() };
  }

  @Public()
  @Get('oidc/:provider/start')
  @ProviderParam()
  @ApiQuery({ name: 'redirect', required: true, description: 'Where the browser goes at the end: a path (one leading /) or a URL of APP_URL or CORS_ORIGINS' })
  @ApiFoundResponse({
    description:
      "To the provider, with the flow cookie set (state, nonce and PKCE verifier, encrypted; HttpOnly, SameSite=Lax, Path=/auth/oidc); to `redirect#error=provider_unavailable` when the provider's discovery fails",
  })
  @ApiErrors({ 400: REDIRECT_NOT_ALLOWED, 404: UNKNOWN_PROVIDER })
  async start(@Param('provider') provider: string, @Query('redirect') target: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const started = await this.oidc.start(provider, target, req);
    if (started.flowCookie) this.cookies.set(reply, started.flowCookie);
    redirect(reply, started.location);
  }

  @Public()
  @ApiDatabase()
  // Throttled as a login, per IP (the account is not known before the provider answers).
  @UseGuards(AuthThrottlerGuard)
  @OnlyLimits(THROTTLE.loginPerIp)
  @Get('oidc/:provider/callback')
  @ProviderParam()
  @ApiFoundResponse({
    description: `To \`redirect\` with the refresh cookie set (signed in); to \`redirect#mfaToken=…&methods=…\` (the second step: POST /auth/login/mfa); to \`redirect#linked=<provider>\` (linked); or to \`redirect#error=<code>\`, one of: ${ERROR_CODES}`,
  })
  @ApiErrors({ 400: NO_MATCHING_FLOW, 404: UNKNOWN_PROVIDER }, 429)
  async callback(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Client() client: ClientMeta,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const flowCookie = this.cookies.read(req);
    const outcome = await this.oidc.callback(provider, query, flowCookie, client);
    // One use: whatever the outcome, this flow is over.
    this.cookies.clear(reply);
    if (outcome.grant) {
      const { response, sessionExpiresAt } = outcome.grant;
      this.transport.setCookie(reply, response.refreshToken, sessionExpiresAt);
      this.devices.remember(req, reply, response.user.email);
    }
    redirect(reply, outcome.location);
  }

  @ApiBearer()
  @ApiDatabase()
  @RequiresRecentAuth()
  @Post('oidc/:provider/link')
  @HttpCode(200)
  @ProviderParam()
  @ApiOkResponse({
    type: LinkUrlDto,
    description:
      "The provider's URL; this answer sets the flow cookie, so open it in the same browser. It comes back to `redirect#linked=<provider>` or `redirect#error=<code>`",
  })
  @ApiJsonBody(`redirect is not a string, or ${REDIRECT_NOT_ALLOWED}`)
  @ApiErrors({ 404: UNKNOWN_PROVIDER, 503: PROVIDER_UNAVAILABLE })
  async link(
    @Param('provider') provider: string,
    @Body() dto: LinkProviderDto,
    @CurrentUser() me: AuthUser,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LinkUrlDto> {
    const started = await this.oidc.link(provider, dto.redirect, me, req);
    this.cookies.set(reply, started.flowCookie);
    return { url: started.location };
  }

  @ApiBearer()
  @ApiDatabase()
  @Get('identities')
  @ApiOkResponse({ type: IdentitiesDto, description: "The caller's linked providers" })
  async identities(@CurrentUser() me: AuthUser): Promise<IdentitiesDto> {
    return { items: await this.oidc.list(me) };
  }

  @ApiBearer()
  @ApiDatabase()
  @RequiresRecentAuth()
  @Delete('identities/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The provider is no longer linked' })
  @ApiErrors({ 404: IDENTITY_NOT_FOUND, 409: LAST_WAY_TO_SIGN_IN })
  async unlink(@UuidParam('id', IDENTITY_NOT_FOUND) id: string, @CurrentUser() me: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.oidc.unlink(me, id, client);
  }
}
