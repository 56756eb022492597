import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, ValidateBy } from 'class-validator';
import { given, omittedIfEmpty } from './field-rules';

/** What a revocation without any token is told (cookie mode reads the cookie instead). */
export const NO_TOKEN_TO_REVOKE = 'token must be given (or refreshToken, or the refresh cookie in cookie mode)';

/**
 * POST /auth/revoke: RFC 7009 §2.1's request (`token`, optional `token_type_hint`), as a
 * form or as JSON, or this API's JSON `{ refreshToken }`. Any string is a token: one that
 * is not ours (too long, not a refresh token's shape, a forged JWT) is an invalid token,
 * answered 200 by RFC 7009 §2.2, so no length or form is checked here; only a request
 * that holds no string token at all is a 400. A field sent twice (a list) is not a string.
 */
export class RevokeDto {
  @ApiPropertyOptional({ description: 'RFC 7009: the refresh token or access token to revoke' })
  @Transform(omittedIfEmpty)
  @IsOptional()
  @IsString({ message: 'token must be a string (sent once)' })
  token?: string;

  /**
   * Accepted and not read: the token's own form says what it is (a refresh token is 43
   * base64url characters, an access token a JWS), and RFC 7009 §2.1 lets the server
   * ignore the hint, an unsupported one included.
   */
  @ApiPropertyOptional({ description: 'RFC 7009: `refresh_token`, `access_token` or anything; not needed' })
  @Transform(omittedIfEmpty)
  @IsOptional()
  @IsString({ message: 'token_type_hint must be a string' })
  token_type_hint?: string;

  /**
   * What OAuth libraries send for a public client (RFC 6749 §2.3.1): accepted and not
   * read. Sessions here belong to users, not to OAuth clients, so there is no client to
   * check the token against; the token alone is the proof, as for POST /auth/logout.
   */
  @ApiPropertyOptional({ description: 'Accepted for OAuth libraries that send it; not read' })
  @IsOptional()
  @IsString({ message: 'client_id must be a string' })
  client_id?: string;

  @ApiPropertyOptional({ description: "This API's spelling of `token` (JSON); one of the two" })
  @Transform(omittedIfEmpty)
  @IsOptional()
  @IsString({ message: 'refreshToken must be a string' })
  @ValidateBy(
    { name: 'notWithToken', validator: { validate: (_value, args) => (args?.object as RevokeDto).token === undefined } },
    { message: 'send token or refreshToken, not both', validateIf: given },
  )
  refreshToken?: string;
}
