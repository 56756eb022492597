import type { KeyObject } from 'node:crypto';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../../config/configuration';
import { ACCESS_TOKEN_KEY, loadAccessTokenKey } from './access-token-key';
import { ACCESS_TOKEN_ALGORITHM, TokenService } from './token.service';

/** Signing and verifying: the key, the configured JwtService, the TokenService. */
@Module({
  providers: [
    {
      provide: ACCESS_TOKEN_KEY,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        loadAccessTokenKey({
          secret: config.get('auth.accessSecret', { infer: true }),
          env: config.get('app.env', { infer: true }),
          dataDir: config.get('database.dataDir', { infer: true }),
        }),
    },
    {
      provide: JwtService,
      inject: [ConfigService, ACCESS_TOKEN_KEY],
      useFactory: (config: ConfigService<AppConfig, true>, key: KeyObject) =>
        new JwtService({
          secret: key,
          signOptions: {
            algorithm: ACCESS_TOKEN_ALGORITHM,
            issuer: config.get('auth.issuer', { infer: true }),
            audience: config.get('auth.audience', { infer: true }),
          },
        }),
    },
    TokenService,
  ],
  exports: [ACCESS_TOKEN_KEY, TokenService],
})
export class TokensModule {}
