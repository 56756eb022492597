import { CanActivate, createParamDecorator, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthClient, type AuthenticatedUser } from './auth-client.service';

/** `Authorization: Bearer <JWS compact>`, nothing else on the line. */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
/** Far above a real token (~500 characters with ES256, ~700 with RS256): refused unread. */
const MAX_HEADER_LENGTH = 4096;

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthenticatedUser;
}

/**
 * `@UseGuards(AuthGuard)`: the route needs a valid access token of the auth server, not
 * revoked. 401 with the Bearer challenge otherwise; 503 while neither the revocation feed
 * nor the auth server can tell. Works on Express and Fastify.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly auth: AuthClient) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const header = request.headers.authorization;
    const token = typeof header === 'string' && header.length <= MAX_HEADER_LENGTH ? BEARER.exec(header)?.[1] : undefined;
    try {
      if (!token) throw new UnauthorizedException(header === undefined ? 'Missing bearer token' : 'Invalid access token');
      request.user = await this.auth.authenticate(token);
      return true;
    } catch (error) {
      if (error instanceof UnauthorizedException) {
        const reply = http.getResponse<{ header?: (name: string, value: string) => unknown; setHeader?: (name: string, value: string) => unknown }>();
        const challenge = header === undefined ? 'Bearer' : 'Bearer error="invalid_token"';
        if (typeof reply.header === 'function') reply.header('www-authenticate', challenge);
        else reply.setHeader?.('www-authenticate', challenge);
      }
      throw error;
    }
  }
}

/** `@CurrentUser() user: AuthenticatedUser`: the caller, after AuthGuard. */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): AuthenticatedUser | undefined => {
  return context.switchToHttp().getRequest<HttpRequest>().user;
});
