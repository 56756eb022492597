import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { KeysModule } from '../auth/keys/keys.module';
import { AccountTokensRepositoryModule } from '../auth/recovery/account-tokens-repository.module';
import { RevocationModule } from '../auth/revocation/revocation.module';
import { SessionsRepositoryModule } from '../auth/sessions/sessions-repository.module';
import { PendingSignInsModule } from '../auth/sign-in/pending-sign-ins.module';
import { ThrottlerStorageModule } from '../throttling/throttling.module';
import { CleanupService } from './cleanup.service';

/** Scheduled housekeeping: the cleanup job. */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    ThrottlerStorageModule,
    SessionsRepositoryModule,
    RevocationModule,
    KeysModule,
    AccountTokensRepositoryModule,
    PendingSignInsModule,
  ],
  providers: [CleanupService],
  exports: [CleanupService],
})
export class MaintenanceModule {}
