import { Module } from '@nestjs/common';
import { SecretModule } from '../secret/secret.module';
import { SERVER_SECRETS, type ServerSecrets } from '../secret/server-secret';
import { JwksController } from './jwks.controller';
import { KeyEncryption } from './key-encryption';
import { KeyMetrics } from './key-metrics';
import { SigningKeys } from './signing-keys.service';
import { SigningKeysRepository } from './signing-keys.repository';

/**
 * The signing keys of access tokens: shared through the database, sealed under the server
 * secret, published at /.well-known/jwks.json. Below revocation: they meet through the
 * event bus (a key revoked here is declared by RevocationService on `signing-key.revoked`;
 * what the channel hears reaches SigningKeys as `key-revocation.heard` and `channel.notice`).
 */
@Module({
  imports: [SecretModule],
  controllers: [JwksController],
  providers: [
    SigningKeysRepository,
    { provide: KeyEncryption, inject: [SERVER_SECRETS], useFactory: (secrets: ServerSecrets) => new KeyEncryption(secrets) },
    SigningKeys,
    KeyMetrics,
  ],
  exports: [SecretModule, SigningKeys, SigningKeysRepository],
})
export class KeysModule {}
