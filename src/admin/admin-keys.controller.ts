import { Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, type PipeTransform } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { KID_PATTERN } from '../auth/keys/signing-key';
import { KEY_NOT_FOUND, LAST_KEY, SigningKeys } from '../auth/keys/signing-keys.service';
import { ApiDatabase, ApiErrors } from '../common/api-docs';
import { Client, type ClientMeta } from '../common/client-meta';
import { AdminOnly } from './admin-only.decorator';
import { KeysDto, RotatedKeyDto } from './dto/keys.dto';

/** A kid as we make them (a thumbprint); anything else names no key: 404, as an unknown one (see UuidParam). */
// eslint-disable-next-line no-useless-assignment -- read by @Param('kid', kidOrNotFound) below, which the rule does not see
const kidOrNotFound: PipeTransform<unknown, string> = {
  transform: (value) => {
    if (typeof value !== 'string' || !KID_PATTERN.test(value)) throw new NotFoundException(KEY_NOT_FOUND);
    return value;
  },
};

/** /admin/keys (API.md, "Signing keys"). */
@AdminOnly()
@ApiDatabase()
@Controller('admin/keys')
export class AdminKeysController {
  constructor(private readonly keys: SigningKeys) {}

  @Get()
  @ApiOkResponse({ type: KeysDto })
  @ApiErrors(401, 403)
  async list(): Promise<KeysDto> {
    return { items: await this.keys.list() };
  }

  @Post('rotate')
  @ApiCreatedResponse({ type: RotatedKeyDto, description: 'Published at once; signs from activatesAt. Nobody is logged out.' })
  @ApiErrors(401, 403)
  rotate(@CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<RotatedKeyDto> {
    return this.keys.rotate({ actorId: admin.id, client });
  }

  @Delete(':kid')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked: it signs nothing more and its tokens are refused at once, on every instance' })
  @ApiErrors(401, 403, { 404: KEY_NOT_FOUND, 409: LAST_KEY })
  async revoke(@Param('kid', kidOrNotFound) kid: string, @CurrentUser() admin: AuthUser, @Client() client: ClientMeta): Promise<void> {
    await this.keys.revoke(kid, { actorId: admin.id, client });
  }
}
