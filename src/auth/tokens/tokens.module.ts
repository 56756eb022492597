import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { AccessTokens } from './access-token';
import { RefreshTokens } from './refresh-token';
import { VerifiedTokens } from './verified-tokens';

/** Each token's contract: access tokens (sign, verify, claims, the verification cache), refresh tokens (shape, hash, successor). */
@Module({
  imports: [KeysModule],
  providers: [AccessTokens, RefreshTokens, VerifiedTokens],
  exports: [KeysModule, AccessTokens, RefreshTokens, VerifiedTokens],
})
export class TokensModule {}
