import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { SigningKeysRepositoryModule } from '../auth/keys/signing-keys-repository.module';
import { AccountTokensRepositoryModule } from '../auth/recovery/account-tokens-repository.module';
import { RevocationModule } from '../auth/revocation/revocation.module';
import { SessionsRepositoryModule } from '../auth/sessions/sessions-repository.module';
import { ThrottlerStorageModule } from '../throttling/throttling.module';
import { CleanupService } from './cleanup.service';

/** Scheduled housekeeping: the cleanup job. */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    ThrottlerStorageModule,
    SessionsRepositoryModule,
    RevocationModule,
    SigningKeysRepositoryModule,
    AccountTokensRepositoryModule,
  ],
  providers: [CleanupService],
  exports: [CleanupService],
})
export class MaintenanceModule {}
