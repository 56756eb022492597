import type { KeyObject } from 'node:crypto';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../../config/configuration';
import { ACCESS_TOKEN_ALGORITHM, AccessTokens } from './access-token';
import { RefreshTokens } from './refresh-token';
import { loadServerSecret, SERVER_SECRET } from './server-secret';

/** Each token's contract: access tokens (sign, verify, claims), refresh tokens (shape, hash, successor). */
@Module({
  providers: [
    {
      provide: SERVER_SECRET,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        loadServerSecret({
          secret: config.get('auth.accessSecret', { infer: true }),
          env: config.get('app.env', { infer: true }),
          dataDir: config.get('database.dataDir', { infer: true }),
        }),
    },
    {
      provide: JwtService,
      inject: [ConfigService, SERVER_SECRET],
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
    AccessTokens,
    RefreshTokens,
  ],
  exports: [SERVER_SECRET, AccessTokens, RefreshTokens],
})
export class TokensModule {}
