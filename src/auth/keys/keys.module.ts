import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/configuration';
import { RevocationModule } from '../revocation/revocation.module';
import { loadServerSecret, SERVER_SECRET, SERVER_SECRETS, secretKey, type ServerSecrets } from '../tokens/server-secret';
import { JwksController } from './jwks.controller';
import { KeyEncryption } from './key-encryption';
import { SigningKeys } from './signing-keys.service';
import { SigningKeysRepositoryModule } from './signing-keys-repository.module';

/**
 * The server secret (AUTH_SECRET, and AUTH_SECRET_PREVIOUS while it rotates) and the
 * signing keys of access tokens: shared through the database, sealed under the secret,
 * published at /.well-known/jwks.json.
 */
@Module({
  imports: [RevocationModule, SigningKeysRepositoryModule],
  controllers: [JwksController],
  providers: [
    {
      provide: SERVER_SECRETS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>): ServerSecrets => {
        const previous = config.get('auth.previousSecret', { infer: true });
        return {
          current: loadServerSecret({
            secret: config.get('auth.secret', { infer: true }),
            env: config.get('app.env', { infer: true }),
            dataDir: config.get('database.dataDir', { infer: true }),
          }),
          ...(previous && { previous: secretKey(previous) }),
        };
      },
    },
    { provide: SERVER_SECRET, inject: [SERVER_SECRETS], useFactory: (secrets: ServerSecrets) => secrets.current },
    { provide: KeyEncryption, inject: [SERVER_SECRETS], useFactory: (secrets: ServerSecrets) => new KeyEncryption(secrets) },
    SigningKeys,
  ],
  exports: [SERVER_SECRET, SERVER_SECRETS, SigningKeys],
})
export class KeysModule {}
