import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import type { AppConfig } from '../config/configuration';
import { MailModule } from '../mail/mail.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { DevicesController } from './devices/devices.controller';
import { DevicesService } from './devices/devices.service';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { RolesGuard } from './guards/roles.guard';
import { ARGON2_COST, PasswordService } from './passwords/password.service';
import { AccountTokensRepositoryModule } from './recovery/account-tokens-repository.module';
import { RecoveryController } from './recovery/recovery.controller';
import { RecoveryService } from './recovery/recovery.service';
import { RevocationModule } from './revocation/revocation.module';
import { SessionEndingService } from './sessions/session-ending.service';
import { SessionRotationService } from './sessions/session-rotation.service';
import { SessionsRepositoryModule } from './sessions/sessions-repository.module';
import { MfaStepGuard } from './sign-in/mfa-step.guard';
import { ReauthenticationController } from './step-up/reauthentication.controller';
import { ReauthenticationService } from './step-up/reauthentication.service';
import { RecentAuthGuard } from './step-up/recent-auth.guard';
import { SecondFactors } from './step-up/second-factors';
import { PendingSignInsModule } from './sign-in/pending-sign-ins.module';
import { PasswordMethod } from './sign-in/password/password.method';
import { SignInMethods, SignInRules } from './sign-in/sign-in-methods';
import { SignInPolicy } from './sign-in/sign-in-policy';
import { SignInService } from './sign-in/sign-in.service';
import { AccessTokenStrategy } from './strategies/access-token.strategy';
import { LocalStrategy } from './strategies/local.strategy';
import { AuthThrottlingModule } from './throttling/auth-throttling.module';
import { TokensModule } from './tokens/tokens.module';
import { RefreshTransport } from './transport/refresh-transport';

@Module({
  imports: [
    PassportModule,
    // The sign-in methods and rules register themselves (@ProvidesSignInMethod, @ProvidesSignInRule), in any module.
    DiscoveryModule,
    TokensModule,
    RevocationModule,
    SessionsRepositoryModule,
    UsersModule,
    AuthThrottlingModule,
    MailModule,
    AccountTokensRepositoryModule,
    PendingSignInsModule,
  ],
  controllers: [AuthController, DevicesController, RecoveryController, ReauthenticationController],
  providers: [
    AuthService,
    RecoveryService,
    SessionRotationService,
    SessionEndingService,
    DevicesService,
    PasswordService,
    {
      provide: ARGON2_COST,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => config.get('auth', { infer: true }).argon2,
    },
    RefreshTransport,
    // Sign-in as steps (src/auth/sign-in): methods prove, the policy decides, then a session opens.
    SignInService,
    SignInPolicy,
    SignInMethods,
    SignInRules,
    MfaStepGuard,
    PasswordMethod,
    LocalStrategy,
    AccessTokenStrategy,
    // Deny by default: every route needs a valid access token unless @Public(); then roles.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    // Step-up (src/auth/step-up): @RequiresRecentAuth() routes, and POST /auth/reauthenticate.
    { provide: APP_GUARD, useClass: RecentAuthGuard },
    SecondFactors,
    ReauthenticationService,
  ],
  exports: [
    SessionEndingService,
    DevicesService,
    PasswordService,
    RevocationModule,
    TokensModule,
    // The account's lifecycle (src/auth/lifecycle) builds on these.
    AuthService,
    RecoveryService,
    SessionRotationService,
    RefreshTransport,
    AccountTokensRepositoryModule,
    PendingSignInsModule,
    AccessTokenStrategy,
    SignInMethods,
  ],
})
export class AuthModule {}
