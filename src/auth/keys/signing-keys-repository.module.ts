import { Module } from '@nestjs/common';
import { SigningKeysRepository } from './signing-keys.repository';

/** The owner of the `signing_keys` table, for the key ring, the revocation fallback and the cleanup job. */
@Module({ providers: [SigningKeysRepository], exports: [SigningKeysRepository] })
export class SigningKeysRepositoryModule {}
