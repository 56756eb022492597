import { Module } from '@nestjs/common';
import { SessionsRepository } from './sessions.repository';

/** The owner of the `sessions` table, for the lifecycle, the revocation fallback and the cleanup job. */
@Module({ providers: [SessionsRepository], exports: [SessionsRepository] })
export class SessionsRepositoryModule {}
