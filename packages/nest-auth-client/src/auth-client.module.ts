import { Module } from '@nestjs/common';
import { AuthClient } from './auth-client.service';
import { AuthGuard } from './auth.guard';
import { ConfigurableModuleClass } from './options';

/**
 * `AuthClientModule.forRoot({ issuer, audience, clientId, clientSecret })` (or
 * `forRootAsync({ inject, useFactory })`): AuthClient, with the revocation feed it
 * keeps open, and AuthGuard for `@UseGuards`.
 */
@Module({
  providers: [AuthClient, AuthGuard],
  exports: [AuthClient, AuthGuard],
})
export class AuthClientModule extends ConfigurableModuleClass {}
