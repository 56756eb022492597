import { Module } from '@nestjs/common';
import { AuthClient } from './auth-client.service';
import { AuthGuard } from './auth.guard';
import { StepUpGuard } from './require-auth';
import { ConfigurableModuleClass } from './options';

/**
 * `AuthClientModule.forRoot({ issuer, audience, clientId, clientSecret })` (or
 * `forRootAsync({ inject, useFactory })`): AuthClient, with the revocation feed it
 * keeps open, AuthGuard for `@UseGuards`, and StepUpGuard for `@RequireAuth(...)`.
 */
@Module({
  providers: [AuthClient, AuthGuard, StepUpGuard],
  exports: [AuthClient, AuthGuard, StepUpGuard],
})
export class AuthClientModule extends ConfigurableModuleClass {}
