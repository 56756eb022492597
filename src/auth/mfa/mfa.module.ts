import { Module } from '@nestjs/common';
import { AuthModule } from '../auth.module';
import { MailModule } from '../../mail/mail.module';
import { SecretModule } from '../secret/secret.module';
import { PasskeysModule } from '../passkeys/passkeys.module';
import { UsersModule } from '../../users/users.module';
import { MfaFactorsRepository } from './mfa-factors.repository';
import { MfaController } from './mfa.controller';
import { MfaService } from './mfa.service';
import { RecoveryCodeMethod, SecondFactorRule, TotpMethod } from './second-factor.methods';
import { TotpSecrets } from './totp-secrets';

/**
 * Second factors: TOTP and recovery codes (/auth/mfa), and their sign-in methods and rule,
 * which the sign-in pipeline finds by their decorators (the second step itself is
 * POST /auth/login/mfa, beside POST /auth/login). Mounted by AppModule, like any feature.
 */
@Module({
  imports: [AuthModule, MailModule, SecretModule, UsersModule, PasskeysModule],
  controllers: [MfaController],
  providers: [MfaFactorsRepository, TotpSecrets, MfaService, TotpMethod, RecoveryCodeMethod, SecondFactorRule],
  exports: [MfaService],
})
export class MfaModule {}
