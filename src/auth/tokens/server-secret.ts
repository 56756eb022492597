import { createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';

/** Injection token of the server secret (a `KeyObject`): the root every server key is derived from. */
export const SERVER_SECRET = Symbol('SERVER_SECRET');

/**
 * The server secret is JWT_ACCESS_SECRET. Outside production, when it is unset, a random
 * one is created once in DATA_DIR and reused, so tokens survive a restart of a dev server.
 *
 * Each use gets a key of its own (`deriveKey`), so that no purpose borrows another's key
 * and each can change on its own: today the HS256 access-token key is the secret itself;
 * refresh-token successors and device cookies use derived keys.
 */
export function loadServerSecret(options: { secret?: string; env: string; dataDir: string }): KeyObject {
  if (options.secret) return createSecretKey(Buffer.from(options.secret, 'utf8'));
  if (options.env === 'production') throw new Error('JWT_ACCESS_SECRET is required in production');

  const dir = resolve(options.dataDir);
  const file = join(dir, 'jwt-access-secret');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  new Logger('ServerSecret').warn(
    `JWT_ACCESS_SECRET is not set: using the development secret in ${file}. Set JWT_ACCESS_SECRET in production.`,
  );
  return createSecretKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8'));
}

/** A 256-bit key for one purpose (HKDF-SHA256 with the purpose as `info`). */
export function deriveKey(secret: KeyObject, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret.export(), Buffer.alloc(0), purpose, 32));
}
