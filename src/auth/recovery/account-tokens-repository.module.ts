import { Module } from '@nestjs/common';
import { AccountTokensRepository } from './account-tokens.repository';

/** The owner of the `account_tokens` table, for the recovery flows and the cleanup job. */
@Module({ providers: [AccountTokensRepository], exports: [AccountTokensRepository] })
export class AccountTokensRepositoryModule {}
