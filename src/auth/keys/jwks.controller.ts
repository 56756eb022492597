import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../decorators/public.decorator';
import type { PublishedJwk } from './signing-key';
import { SigningKeys } from './signing-keys.service';

class JwkDto {
  @ApiProperty({ enum: ['EC', 'RSA'] }) kty!: string;
  @ApiProperty({ description: 'RFC 7638 thumbprint of the key' }) kid!: string;
  @ApiProperty({ enum: ['ES256', 'RS256'] }) alg!: string;
  @ApiProperty({ enum: ['sig'] }) use!: string;
  @ApiProperty({ required: false, description: 'EC: P-256' }) crv?: string;
  @ApiProperty({ required: false }) x?: string;
  @ApiProperty({ required: false }) y?: string;
  @ApiProperty({ required: false, description: 'RSA modulus' }) n?: string;
  @ApiProperty({ required: false, description: 'RSA exponent' }) e?: string;
}

class JwksDto {
  @ApiProperty({ type: [JwkDto] }) keys!: JwkDto[];
}

/**
 * GET /.well-known/jwks.json (API.md, "Signing keys"): the public keys that verify our
 * access tokens, for any service. Every key that is next, active, or signed a token
 * that can still be valid; only public members (see PublicJwk).
 */
@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeys) {}

  @Public()
  @Get('jwks.json')
  @ApiOkResponse({ type: JwksDto, description: 'Cache-Control: public, max-age ≤ SIGNING_KEY_LEAD' })
  jwks(@Res({ passthrough: true }) reply: FastifyReply): { keys: PublishedJwk[] } {
    // The one response meant to be cached (every other one is no-store, app.factory.ts):
    // public keys, nothing about the caller. A copy cached before a rotation expires
    // before the new key signs, since max-age is at most SIGNING_KEY_LEAD.
    void reply.header('cache-control', `public, max-age=${this.keys.lead}`);
    return this.keys.jwks();
  }
}
