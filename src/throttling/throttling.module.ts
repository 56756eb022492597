import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { throttlerOptions } from './auth-throttling';
import { PostgresThrottlerStorage } from './postgres-throttler.storage';

/** The PostgreSQL-backed storage, for the throttler module and for the cleanup job. */
@Module({
  providers: [PostgresThrottlerStorage],
  exports: [PostgresThrottlerStorage],
})
export class ThrottlerStorageModule {}

/**
 * Rate limits for the brute-forceable routes (login, refresh), shared by every instance
 * through PostgreSQL. Routes opt in with `@UseGuards(AuthThrottlerGuard)` and skip the
 * named limits that are not theirs.
 */
@Module({
  imports: [
    ThrottlerStorageModule,
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerStorageModule],
      inject: [ConfigService, PostgresThrottlerStorage],
      useFactory: throttlerOptions,
    }),
  ],
  exports: [ThrottlerModule, ThrottlerStorageModule],
})
export class ThrottlingModule {}
