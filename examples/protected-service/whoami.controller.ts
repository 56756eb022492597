import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { AuthClient, AuthGuard, CurrentAuthentication, CurrentUser, RequireAuth, type Authentication, type AuthenticatedUser } from '@nest-auth-backend/client';

@Controller()
export class WhoamiController {
  constructor(private readonly auth: AuthClient) {}

  /** The one protected route: the caller as the auth server's token and revocations say. */
  @UseGuards(AuthGuard)
  @Get('whoami')
  whoami(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  /**
   * A route that wants a second factor and a recent sign-in (step-up): a token at `acr`
   * aal2 whose `auth_time` is at most 5 minutes old, checked from the token alone;
   * otherwise 401 with RFC 9470's challenge, which the client answers with
   * POST /auth/reauthenticate on the auth server.
   */
  @RequireAuth({ acr: 'aal2', maxAge: 300 })
  @Get('sensitive')
  sensitive(@CurrentUser() user: AuthenticatedUser, @CurrentAuthentication() authentication: Authentication | undefined) {
    return { user, authentication };
  }

  /** Public: whether the revocation memory is live, and how often the auth server was asked. */
  @Get('health')
  health(): { revocations: 'live' | 'introspecting'; introspections: number; feedConnections: number } {
    return { revocations: this.auth.live ? 'live' : 'introspecting', introspections: this.auth.introspections, feedConnections: this.auth.feedConnections };
  }

  /**
   * The same for Prometheus (public here, as the example's /health; protect it in a real
   * service). deploy/prometheus/alerts.yml alerts when the feed stays not live.
   */
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): string {
    return [
      '# HELP auth_client_revocation_feed_live 1 while the revocation feed vouches for memory, 0 while every request is introspected',
      '# TYPE auth_client_revocation_feed_live gauge',
      `auth_client_revocation_feed_live ${this.auth.live ? 1 : 0}`,
      '# HELP auth_client_introspections_total Requests answered by introspection',
      '# TYPE auth_client_introspections_total counter',
      `auth_client_introspections_total ${this.auth.introspections}`,
      '',
    ].join('\n');
  }
}
