import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';

/** Injection token of the HMAC key (a `KeyObject`) that signs and verifies access tokens. */
export const ACCESS_TOKEN_KEY = Symbol('ACCESS_TOKEN_KEY');

/**
 * The access-token key as a `KeyObject`: jsonwebtoken verifies about 50 times faster with
 * one than with a string secret (it would re-import the string on every call).
 *
 * The secret is JWT_ACCESS_SECRET. Outside production, when it is unset, a random one is
 * created once in DATA_DIR and reused, so tokens survive a restart of a dev server.
 */
export function loadAccessTokenKey(options: { secret?: string; env: string; dataDir: string }): KeyObject {
  if (options.secret) return createSecretKey(Buffer.from(options.secret, 'utf8'));
  if (options.env === 'production') throw new Error('JWT_ACCESS_SECRET is required in production');

  const dir = resolve(options.dataDir);
  const file = join(dir, 'jwt-access-secret');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  new Logger('AccessTokenKey').warn(
    `JWT_ACCESS_SECRET is not set: using the development secret in ${file}. Set JWT_ACCESS_SECRET in production.`,
  );
  return createSecretKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8'));
}
