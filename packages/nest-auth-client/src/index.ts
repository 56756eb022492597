export { AuthClientModule } from './auth-client.module';
export { AuthClient, type Authenticated, type Authentication, type AuthenticatedUser } from './auth-client.service';
export { AuthGuard, CurrentAuthentication, CurrentUser } from './auth.guard';
export { AUTH_CLIENT_OPTIONS, AuthClientOptionsError, checkAuthClientOptions, type AuthClientOptions } from './options';
export { RevocationFeedClient } from './revocation-feed-client';
export { REQUIRE_AUTH, RequireAuth, StepUpGuard, stepUpRefusal, type AuthDemand, type StepUpRefusal } from './require-auth';
