import { Module } from '@nestjs/common';
import { MailModule } from '../../mail/mail.module';
import { UsersModule } from '../../users/users.module';
import { AuthModule } from '../auth.module';
import { SecretModule } from '../secret/secret.module';
import { SessionsRepositoryModule } from '../sessions/sessions-repository.module';
import { AuthThrottlingModule } from '../throttling/auth-throttling.module';
import { FlowCookies } from './flow-cookie';
import { IdentitiesRepository } from './identities.repository';
import { OidcController } from './oidc.controller';
import { OidcMethod } from './oidc.method';
import { OidcProviders } from './oidc-providers';
import { OidcService } from './oidc.service';
import { RedirectTargets } from './redirect-targets';
import { UnprovenLinks } from './unproven-links';

/**
 * Sign-in with other providers (OpenID Connect, OIDC_PROVIDERS) and linked identities
 * (/auth/providers, /auth/oidc/:provider/…, /auth/identities). Its sign-in method is found
 * by the pipeline through its decorator. Mounted by AppModule, like any feature.
 */
@Module({
  imports: [AuthModule, AuthThrottlingModule, MailModule, SecretModule, SessionsRepositoryModule, UsersModule],
  controllers: [OidcController],
  providers: [OidcProviders, FlowCookies, RedirectTargets, IdentitiesRepository, OidcService, OidcMethod, UnprovenLinks],
})
export class OidcModule {}
