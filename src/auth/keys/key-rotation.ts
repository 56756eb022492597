import type { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { KeyEncryption } from './key-encryption';
import { newSigningKey, statusOf, type SigningAlgorithm } from './signing-key';
import type { SigningKeysRepository } from './signing-keys.repository';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    'key.rotated': true;
    'key.revoked': true;
  }
}

export interface NewKeyOptions {
  algorithm: SigningAlgorithm;
  /** SIGNING_KEY_LEAD, seconds. */
  leadSeconds: number;
  /** At start: add a key only when none can sign (so two instances starting together make one). */
  onlyIfNone?: boolean;
  /**
   * On schedule (SIGNING_KEY_ROTATION, ms): add a key only when the newest one started
   * signing at least this long minus the lead ago, so that the new one signs this long
   * after it. Decided under the keys lock: of instances that find it due together, one adds.
   */
  dueEveryMs?: number;
  /** Who asked: an admin (POST /admin/keys/rotate), or a command (`via`). */
  actorId?: string;
  client?: ClientMeta;
  via?: 'keys:rotate' | 'schedule';
}

export interface AddedKey {
  kid: string;
  activatesAt: Date;
}

/**
 * Adds a signing key: the rotation, shared by POST /admin/keys/rotate and
 * `npm run keys:rotate`, and the first key at start.
 *
 * The new key is published at once (every instance hears KEYS_CHANGED and reloads) and
 * signs from now + SIGNING_KEY_LEAD, so relying parties that cache the JWKS have it
 * before they meet a token it signed; the key signing now retires then, and stays
 * published until its last token expires. Nobody is logged out. When no key can sign
 * (an empty table), the new key signs at once: there is nothing to lead.
 *
 * Under the keys lock: of two instances starting together on an empty table, the second
 * finds the first one's key and adds none.
 */
export async function addSigningKey(
  keys: SigningKeysRepository,
  audit: AuditService,
  encryption: KeyEncryption,
  options: NewKeyOptions,
): Promise<AddedKey | undefined> {
  // Made before the lock is taken: RSA key generation can take a while.
  const key = await newSigningKey(options.algorithm, encryption);
  return keys.transaction(async (tx) => {
    const now = Date.now();
    const rows = await keys.allIn(tx);
    const canSign = rows.some((k) => ['next', 'active'].includes(statusOf(k, now)));
    if (options.onlyIfNone && canSign) return undefined;
    if (options.dueEveryMs !== undefined && canSign) {
      const newest = Math.max(...rows.filter((k) => !k.revokedAt).map((k) => k.activatesAt.getTime()));
      if (newest + options.dueEveryMs - options.leadSeconds * 1000 > now) return undefined;
    }
    const activatesAt = new Date(canSign ? now + options.leadSeconds * 1000 : now);
    await keys.create(tx, key, activatesAt);
    await keys.reschedule(tx);
    await keys.announce(tx);
    if (!options.onlyIfNone) {
      const data = { kid: key.kid, algorithm: key.algorithm, activatesAt: activatesAt.toISOString(), ...(options.via && { via: options.via }) };
      await audit.record(tx, { type: 'key.rotated', actorId: options.actorId, client: options.client, data });
    }
    return { kid: key.kid, activatesAt };
  });
}
