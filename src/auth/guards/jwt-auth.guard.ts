import { ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC } from '../decorators/public.decorator';

/** Global (APP_GUARD): every route needs a valid bearer access token unless `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, user: T | false, info: unknown): T {
    if (error || !user) {
      throw error instanceof UnauthorizedException ? error : new UnauthorizedException(describe(info));
    }
    return user;
  }
}

/** A short reason from passport-jwt / jsonwebtoken, without echoing the token. */
function describe(info: unknown): string {
  if (info instanceof Error) {
    if (info.name === 'TokenExpiredError') return 'Access token expired';
    if (info.message === 'No auth token') return 'Missing bearer token';
  }
  return 'Invalid access token';
}
