import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/configuration';
import { loadServerSecret, SERVER_SECRET, SERVER_SECRETS, secretKey, type ServerSecrets } from './server-secret';

/**
 * The server secret (AUTH_SECRET, and AUTH_SECRET_PREVIOUS while it rotates): the root
 * every server key is derived from (signing keys sealed at rest, refresh-token successors,
 * device cookies, webhook secrets). At the bottom of auth/: it imports nothing of it.
 */
@Module({
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
  ],
  exports: [SERVER_SECRET, SERVER_SECRETS],
})
export class SecretModule {}
