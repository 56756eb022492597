import { ExecutionContext, HttpException, Injectable, type CanActivate } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth-user';
import { AccessTokenStrategy } from '../strategies/access-token.strategy';

/**
 * On a `@Public()` route that also serves signed-in callers: with an Authorization header,
 * the caller is authenticated as on any route (request.user; an invalid or revoked token is
 * the usual 401 with its Bearer challenge, never ignored); without one, there is no caller.
 */
@Injectable()
export class OptionalBearerGuard implements CanActivate {
  constructor(private readonly accessTokens: AccessTokenStrategy) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: AuthUser }>();
    if (request.headers.authorization === undefined) return true;
    try {
      request.user = await this.accessTokens.authenticate(request);
    } catch (error) {
      if (error instanceof HttpException) void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer error="invalid_token"');
      throw error;
    }
    return true;
  }
}
