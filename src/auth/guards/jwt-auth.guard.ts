import { ExecutionContext, HttpException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IS_PUBLIC } from '../decorators/public.decorator';

/** Global (APP_GUARD): every route needs a valid bearer access token unless `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  /** `@Public()` per route handler: decorators are fixed once the app is built, so each is read once. */
  private readonly publicHandlers = new WeakMap<object, boolean>();

  override canActivate(context: ExecutionContext) {
    const handler = context.getHandler();
    let isPublic = this.publicHandlers.get(handler);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, context.getClass()]) === true;
      this.publicHandlers.set(handler, isPublic);
    }
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, user: T | false, info: unknown, context: ExecutionContext): T {
    // Not a verdict on the token (the database is unreachable, a bug): the global filter
    // answers 503 or 500. A 401 would tell the client to throw away a good token.
    if (error && !(error instanceof HttpException)) throw error instanceof Error ? error : new Error('authentication failed', { cause: error });
    if (error || !user) {
      const http = context.switchToHttp();
      const sentCredentials = http.getRequest<FastifyRequest>().headers.authorization !== undefined;
      // RFC 6750 §3: every 401 of a protected resource carries the Bearer challenge.
      void http.getResponse<FastifyReply>().header('www-authenticate', sentCredentials ? 'Bearer error="invalid_token"' : 'Bearer');
      throw error instanceof HttpException ? error : new UnauthorizedException(describe(info, sentCredentials));
    }
    return user;
  }
}

/** A short reason from passport-jwt / jsonwebtoken, without echoing the token. */
function describe(info: unknown, sentCredentials: boolean): string {
  if (info instanceof Error && info.name === 'TokenExpiredError') return 'Access token expired';
  return sentCredentials ? 'Invalid access token' : 'Missing bearer token';
}
