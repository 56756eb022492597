import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ThrottlingModule } from '../throttling/throttling.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { RolesGuard } from './guards/roles.guard';
import { PasswordService } from './passwords/password.service';
import { RevocationModule } from './revocation/revocation.module';
import { SessionService } from './sessions/session.service';
import { SessionsController } from './sessions/sessions.controller';
import { UserSessionsService } from './sessions/user-sessions.service';
import { JwtStrategy } from './strategies/jwt.strategy';
import { LocalStrategy } from './strategies/local.strategy';
import { TokensModule } from './tokens/tokens.module';
import { RefreshTransport } from './transport/refresh-transport';

@Module({
  imports: [PassportModule, TokensModule, RevocationModule, UsersModule, ThrottlingModule],
  controllers: [AuthController, SessionsController],
  providers: [
    AuthService,
    SessionService,
    UserSessionsService,
    PasswordService,
    RefreshTransport,
    LocalStrategy,
    JwtStrategy,
    // Deny by default: every route needs a valid access token unless @Public(); then roles.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [AuthService, SessionService, UserSessionsService, PasswordService, RevocationModule, TokensModule, UsersModule],
})
export class AuthModule {}
