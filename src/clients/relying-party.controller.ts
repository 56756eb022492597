import { Body, Controller, Get, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators/public.decorator';
import { ApiClientAuth, ApiDatabase, ApiErrors } from '../common/api-docs';
import { ClientAuthGuard, CurrentClient } from './client-auth.guard';
import type { AuthenticatedClient } from './clients.service';
import { IntrospectDto, IntrospectionDto } from './dto/introspection.dto';
import { IntrospectionService } from './introspection.service';
import { RevocationFeed } from './revocation-feed';

/** The routes of services that accept our access tokens (API.md), authenticated as clients (HTTP Basic). */
@ApiTags('clients')
@ApiDatabase()
@Public()
@UseGuards(ClientAuthGuard)
@Controller('auth')
export class RelyingPartyController {
  constructor(
    private readonly introspection: IntrospectionService,
    private readonly feed: RevocationFeed,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @ApiClientAuth()
  @ApiOkResponse({ type: IntrospectionDto, description: 'RFC 7662; the state at the moment of the call' })
  @ApiErrors({
    400: 'No token (an empty one is none: RFC 6749 §3.1)',
    413: 'Request body larger than BODY_LIMIT',
    415: 'Send application/x-www-form-urlencoded or application/json',
  })
  introspect(@Body() dto: IntrospectDto): Promise<IntrospectionDto> {
    return this.introspection.introspect(dto.token);
  }

  @Get('revocations')
  @ApiClientAuth()
  @ApiOkResponse({
    description: 'Server-Sent Events: the window, `ready`, then live events and a heartbeat at least every 250 ms',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors({ 429: 'Too many failed authentications, or too many open feeds for this client' })
  revocations(@CurrentClient() client: AuthenticatedClient, @Res() reply: FastifyReply): void {
    this.feed.open(client, reply);
  }
}
