import { Module } from '@nestjs/common';
import { PendingSignIns } from './pending-sign-ins';

/** The owner of the `pending_sign_ins` table, for the sign-in pipeline and the cleanup job. */
@Module({ providers: [PendingSignIns], exports: [PendingSignIns] })
export class PendingSignInsModule {}
