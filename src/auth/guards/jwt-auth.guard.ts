import { CanActivate, ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth-user';
import { IS_PUBLIC } from '../decorators/public.decorator';
import { AccessTokenStrategy } from '../strategies/access-token.strategy';

/**
 * Global (APP_GUARD): every route needs a valid bearer access token unless `@Public()`.
 * The caller goes to `request.user` (`@CurrentUser()`). While the revocation memory is
 * trusted, a known token is accepted synchronously: no promise on the hot path.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly accessTokens: AccessTokenStrategy,
  ) {}

  /** `@Public()` per route handler: decorators are fixed once the app is built, so each is read once. */
  private readonly publicHandlers = new WeakMap<object, boolean>();

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const handler = context.getHandler();
    let isPublic = this.publicHandlers.get(handler);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, context.getClass()]) === true;
      this.publicHandlers.set(handler, isPublic);
    }
    if (isPublic) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: AuthUser }>();
    const refuse = (error: unknown): never => {
      // Not a verdict on the token (the database is unreachable, a bug): the global filter
      // answers 503 or 500. A 401 would tell the client to throw away a good token.
      if (!(error instanceof HttpException)) throw error;
      // RFC 6750 §3: every 401 of a protected resource carries the Bearer challenge.
      const challenge = request.headers.authorization !== undefined ? 'Bearer error="invalid_token"' : 'Bearer';
      void http.getResponse<FastifyReply>().header('www-authenticate', challenge);
      throw error;
    };
    let caller: AuthUser | Promise<AuthUser>;
    try {
      caller = this.accessTokens.authenticate(request);
    } catch (error) {
      return refuse(error);
    }
    if (caller instanceof Promise) {
      return caller.then((user) => {
        request.user = user;
        return true;
      }, refuse);
    }
    request.user = caller;
    return true;
  }
}
