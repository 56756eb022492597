import { Module } from '@nestjs/common';
import { PostgresThrottlerStorage } from './postgres-throttler.storage';

/**
 * Provides the PostgreSQL-backed throttler storage (PrismaService comes from the global
 * DatabaseModule). It does not register ThrottlerModule: the app passes the storage to
 * `ThrottlerModule.forRootAsync({ imports: [ThrottlingModule], inject: [PostgresThrottlerStorage], ... })`.
 */
@Module({
  providers: [PostgresThrottlerStorage],
  exports: [PostgresThrottlerStorage],
})
export class ThrottlingModule {}
