import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { AccessTokens } from './access-token';
import { LogoutTokens } from './logout-token';
import { RefreshTokens } from './refresh-token';
import { VerifiedTokens } from './verified-tokens';

/** Each token's contract: access tokens (sign, verify, claims, the verification cache), refresh tokens (shape, hash, successor), logout tokens (back-channel logout). */
@Module({
  imports: [KeysModule],
  providers: [AccessTokens, RefreshTokens, VerifiedTokens, LogoutTokens],
  exports: [KeysModule, AccessTokens, RefreshTokens, VerifiedTokens, LogoutTokens],
})
export class TokensModule {}
