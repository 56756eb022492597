import { randomUUID, hkdfSync, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../../config/configuration';
import type { Role } from '../../generated/prisma/client';
import { ACCESS_TOKEN_KEY } from './access-token-key';

/** The one signing algorithm. The verifier accepts nothing else (no `none`, no RS/ES
 * confusion: see JwtStrategy). */
export const ACCESS_TOKEN_ALGORITHM = 'HS256' as const;

/** Claims of an access token (API.md, "Tokens"). */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
  ver: number;
  role: Role;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  jti: string;
}

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  tokenVersion: number;
  role: Role;
}

@Injectable()
export class TokenService {
  /** Derives refresh-token successors (see refresh-token.ts); separate from the signing key. */
  readonly refreshDerivationKey: Buffer;

  constructor(
    private readonly jwt: JwtService,
    private readonly config: ConfigService<AppConfig, true>,
    @Inject(ACCESS_TOKEN_KEY) key: KeyObject,
  ) {
    this.refreshDerivationKey = Buffer.from(
      hkdfSync('sha256', key.export(), Buffer.alloc(0), 'refresh-token-successor-key', 32),
    );
  }

  get accessTokenTtl(): number {
    return this.config.get('auth.accessTokenTtl', { infer: true });
  }

  signAccessToken(subject: AccessTokenSubject): string {
    return this.jwt.sign(
      { sid: subject.sessionId, ver: subject.tokenVersion, role: subject.role },
      { subject: subject.userId, jwtid: randomUUID(), expiresIn: this.accessTokenTtl },
    );
  }
}
