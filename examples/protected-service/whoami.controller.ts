import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthClient, AuthGuard, CurrentUser, type AuthenticatedUser } from '@nest-auth-backend/client';

@Controller()
export class WhoamiController {
  constructor(private readonly auth: AuthClient) {}

  /** The one protected route: the caller as the auth server's token and revocations say. */
  @UseGuards(AuthGuard)
  @Get('whoami')
  whoami(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  /** Public: whether the revocation memory is live, and how often the auth server was asked. */
  @Get('health')
  health(): { revocations: 'live' | 'introspecting'; introspections: number; feedConnections: number } {
    return { revocations: this.auth.live ? 'live' : 'introspecting', introspections: this.auth.introspections, feedConnections: this.auth.feedConnections };
  }
}
