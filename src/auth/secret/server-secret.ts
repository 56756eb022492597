import { createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { PRIVATE_FILE_MODE, privateDir, writePrivateFile } from '../../common/private-files';

/** Injection token of the server secret (a `KeyObject`): the root every server key is derived from. */
export const SERVER_SECRET = Symbol('SERVER_SECRET');
/** Injection token of `ServerSecrets`: the current secret, and the one it replaced while that rotates. */
export const SERVER_SECRETS = Symbol('SERVER_SECRETS');

/**
 * AUTH_SECRET and AUTH_SECRET_PREVIOUS. What is derived from the secret for checking
 * (encrypted signing keys, refresh-token successors) is accepted under either; what is
 * made anew uses the current one only.
 */
export interface ServerSecrets {
  current: KeyObject;
  previous?: KeyObject;
}

/**
 * The server secret is AUTH_SECRET (JWT_ACCESS_SECRET, its former name, is read too).
 * Outside production, when it is unset, a random one is created once in DATA_DIR and
 * reused, so keys and refresh chains survive a restart of a dev server.
 *
 * Each use gets a key of its own (`deriveKey`), so that no purpose borrows another's key
 * and each can change on its own: signing keys are encrypted at rest, refresh-token
 * successors and device cookies are keyed, each under a key derived for that purpose.
 */
export function loadServerSecret(options: { secret?: string; env: string; dataDir: string }): KeyObject {
  if (options.secret) return secretKey(options.secret);
  if (options.env === 'production') throw new Error('AUTH_SECRET is required in production');

  const dir = resolve(options.dataDir);
  // The file's name predates AUTH_SECRET; kept so that a dev server's keys and sessions survive the rename.
  const file = join(dir, 'jwt-access-secret');
  privateDir(dir);
  if (!existsSync(file)) writePrivateFile(file, randomBytes(48).toString('base64url'), 'wx');
  chmodSync(file, PRIVATE_FILE_MODE);
  new Logger('ServerSecret').warn(`AUTH_SECRET is not set: using the development secret in ${file}. Set AUTH_SECRET in production.`);
  return secretKey(readFileSync(file, 'utf8').trim());
}

/** The bytes of a secret setting as a `KeyObject` (the same bytes the HS256 key had: derivations stay byte-identical). */
export function secretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** A 256-bit key for one purpose (HKDF-SHA256 with the purpose as `info`). */
export function deriveKey(secret: KeyObject, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret.export(), Buffer.alloc(0), purpose, 32));
}
