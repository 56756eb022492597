import { Module } from '@nestjs/common';
import { AuthModule } from '../auth.module';
import { MailModule } from '../../mail/mail.module';
import { UsersModule } from '../../users/users.module';
import { AuthThrottlingModule } from '../throttling/auth-throttling.module';
import { OptionalBearerGuard } from './optional-bearer.guard';
import { PasskeyAssertions } from './passkey-assertions';
import { PasskeyMethod, PasskeyRule } from './passkey.method';
import { PasskeySignInGuard } from './passkey-sign-in.guard';
import { PasskeysController } from './passkeys.controller';
import { PasskeysRepository } from './passkeys.repository';
import { PasskeysService } from './passkeys.service';
import { RelyingParty } from './relying-party';
import { WebauthnChallenges } from './webauthn-challenges';

/**
 * Passkeys (WebAuthn, @simplewebauthn/server): /auth/passkeys, the usernameless sign-in,
 * and the `passkey` sign-in method and rule, which the sign-in pipeline and step-up find by
 * their decorators. Mounted by AppModule after MfaModule (so `methods` lists it last).
 */
@Module({
  imports: [AuthModule, AuthThrottlingModule, MailModule, UsersModule],
  controllers: [PasskeysController],
  providers: [
    PasskeysRepository,
    WebauthnChallenges,
    RelyingParty,
    PasskeyAssertions,
    PasskeysService,
    PasskeyMethod,
    PasskeyRule,
    PasskeySignInGuard,
    OptionalBearerGuard,
  ],
  exports: [PasskeysRepository],
})
export class PasskeysModule {}
