import { ForbiddenException, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/configuration';
import type { TokenGrant } from '../auth.service';
import type { TokenResponseDto } from '../dto/token-response.dto';

export const AUTH_MODE_HEADER = 'x-auth-mode';
export const REFRESH_COOKIE = 'refresh_token';
/** The cookie is sent only to the auth routes that read it. */
const COOKIE_PATH = '/auth';

/**
 * The two transports of the refresh token (API.md):
 * - API and mobile clients: in the JSON body, both ways;
 * - browsers (`X-Auth-Mode: cookie`): only in an `HttpOnly; Secure; SameSite=Strict`
 *   cookie, out of reach of page scripts. A request that authenticates with the cookie
 *   must carry the header: a cross-site form or image request cannot set a custom
 *   header, so without it the request is refused (403) as a possible CSRF.
 */
@Injectable()
export class RefreshTransport {
  private readonly secure: boolean;

  constructor(config: ConfigService<AppConfig, true>) {
    this.secure = config.get('auth.cookieSecure', { infer: true });
  }

  isCookieMode(request: FastifyRequest): boolean {
    return request.headers[AUTH_MODE_HEADER] === 'cookie';
  }

  /** The presented refresh token: the body's, else the cookie's (cookie mode only), else undefined. */
  read(request: FastifyRequest, fromBody: string | undefined): string | undefined {
    if (fromBody) return fromBody;
    const cookie = request.cookies?.[REFRESH_COOKIE];
    if (!cookie) return undefined;
    if (!this.isCookieMode(request)) {
      throw new ForbiddenException('A cookie-authenticated request must send X-Auth-Mode: cookie');
    }
    return cookie;
  }

  /** The response body, with the refresh token moved into the cookie in cookie mode. */
  deliver(request: FastifyRequest, reply: FastifyReply, { response, sessionExpiresAt }: TokenGrant): TokenResponseDto {
    if (!this.isCookieMode(request)) return response;
    const { refreshToken, ...body } = response;
    this.setCookie(reply, refreshToken, sessionExpiresAt);
    return body;
  }

  /**
   * The refresh token in its cookie only: a browser coming back from another provider
   * (src/auth/oidc) gets its session this way and never a token in a URL.
   */
  setCookie(reply: FastifyReply, refreshToken: string, sessionExpiresAt: Date): void {
    void reply.setCookie(REFRESH_COOKIE, refreshToken, {
      httpOnly: true,
      secure: this.secure,
      sameSite: 'strict',
      path: COOKIE_PATH,
      expires: sessionExpiresAt,
    });
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(REFRESH_COOKIE, { httpOnly: true, secure: this.secure, sameSite: 'strict', path: COOKIE_PATH });
  }
}
