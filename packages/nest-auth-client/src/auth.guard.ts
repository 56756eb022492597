import { CanActivate, createParamDecorator, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { bearerTokenOf, type BearerRequest } from '@nest-auth-backend/token-contract';
import { AuthClient, type Authentication, type AuthenticatedUser } from './auth-client.service';

interface HttpRequest extends BearerRequest {
  user?: AuthenticatedUser;
  /** Passport's name for what the authentication found beyond the user. */
  authInfo?: Authentication;
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
    // The auth server's own rule: the Authorization header only, sent once, one token of bounded length.
    const token = bearerTokenOf(request);
    try {
      if (!token) throw new UnauthorizedException(header === undefined ? 'Missing bearer token' : 'Invalid access token');
      const { user, authentication } = await this.auth.check(token);
      request.user = user;
      if (authentication) request.authInfo = authentication;
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

/**
 * `@CurrentAuthentication() authentication: Authentication | undefined`: how the caller
 * signed in (`auth_time`, `amr`, `acr`), after AuthGuard; undefined for a token issued
 * before the auth server carried those claims.
 */
export const CurrentAuthentication = createParamDecorator((_: unknown, context: ExecutionContext): Authentication | undefined => {
  return context.switchToHttp().getRequest<HttpRequest>().authInfo;
});
