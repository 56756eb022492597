import { Module } from '@nestjs/common';
import { PostgresThrottlerStorage } from './postgres-throttler.storage';

/**
 * `@nestjs/throttler` storage in PostgreSQL, so that every instance counts the same
 * limits. The auth routes' policy lives in `auth/throttling/`; the cleanup job purges
 * expired rows through this module too.
 */
@Module({
  providers: [PostgresThrottlerStorage],
  exports: [PostgresThrottlerStorage],
})
export class ThrottlerStorageModule {}
