import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerStorageModule } from '../throttling/throttling.module';
import { CleanupService } from './cleanup.service';

/** Scheduled housekeeping: the cleanup job. */
@Module({
  imports: [ScheduleModule.forRoot(), ThrottlerStorageModule],
  providers: [CleanupService],
  exports: [CleanupService],
})
export class MaintenanceModule {}
