import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageModule } from '../../throttling/throttling.module';
import { PostgresThrottlerStorage } from '../../throttling/postgres-throttler.storage';
import { TokensModule } from '../tokens/tokens.module';
import { throttlerOptions } from './auth-throttling';
import { DeviceCookies } from './device-cookie';

@Module({ imports: [TokensModule], providers: [DeviceCookies], exports: [DeviceCookies] })
class DeviceCookiesModule {}

/**
 * Rate limits for the brute-forceable auth routes, shared by every instance through
 * PostgreSQL. Routes opt in with `@UseGuards(AuthThrottlerGuard)` and count only the
 * limits they name with `@OnlyLimits(...)`.
 */
@Module({
  imports: [
    DeviceCookiesModule,
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerStorageModule, DeviceCookiesModule],
      inject: [ConfigService, PostgresThrottlerStorage, DeviceCookies],
      useFactory: throttlerOptions,
    }),
  ],
  exports: [ThrottlerModule, DeviceCookiesModule],
})
export class AuthThrottlingModule {}
