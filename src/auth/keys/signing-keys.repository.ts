import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import { announce } from '../../events/channel';
import { KEYS_CHANGED } from './keys-changed';
import type { NewSigningKey, SigningKeyRow } from './signing-key';

/**
 * PostgreSQL advisory lock that serialises every change of the keys, on every instance
 * and command: the first key at start (two instances starting together must not both
 * make one), rotations, revocations. Distinct from the migration lock.
 */
const KEYS_LOCK = 0x5349474b; // "SIGK"

/**
 * Every query of `signing_keys`. The rule about a key's life is stated once, in SQL
 * (`reschedule`): a key retires when the next key activates.
 */
@Injectable()
export class SigningKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Runs `work` in one transaction holding the keys lock (for changes that span this table, the audit log, the events). */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(async (tx) => {
      await this.lock(tx);
      return work(tx);
    });
  }

  /** Takes the keys lock until the end of `tx`. */
  async lock(tx: Tx): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`;
  }

  /** Every key, oldest activation first. */
  all(): Promise<SigningKeyRow[]> {
    return this.allIn(this.prisma);
  }

  /** The same, as `tx` sees them (under the keys lock: see `transaction`). */
  allIn(tx: Tx): Promise<SigningKeyRow[]> {
    return tx.signingKey.findMany({ orderBy: [{ activatesAt: 'asc' }, { createdAt: 'asc' }] });
  }

  async create(tx: Tx, key: NewSigningKey, activatesAt: Date): Promise<void> {
    await tx.signingKey.create({
      data: { ...key, publicJwk: key.publicJwk, privateKeyEncrypted: new Uint8Array(key.privateKeyEncrypted), activatesAt },
    });
  }

  async revoke(tx: Tx, kid: string, at: Date): Promise<void> {
    await tx.signingKey.update({ where: { kid }, data: { revokedAt: at } });
  }

  /** Makes `kid` sign from `at` (a revoked active key's successor, at once). */
  async promote(tx: Tx, kid: string, at: Date): Promise<void> {
    await tx.signingKey.update({ where: { kid }, data: { activatesAt: at } });
  }

  /**
   * Every key not retired yet retires when the next key (by activation) activates, and
   * never while it has none. Run after every change of the keys; keys already retired
   * keep their date, so their published life is never extended.
   */
  async reschedule(tx: Tx): Promise<void> {
    await tx.$executeRaw`
      UPDATE signing_keys k SET retires_at = s.successor_activates_at
        FROM (SELECT kid, LEAD(activates_at) OVER (ORDER BY activates_at, created_at, kid) AS successor_activates_at
                FROM signing_keys WHERE revoked_at IS NULL) s
       WHERE k.kid = s.kid
         AND (k.retires_at IS NULL OR k.retires_at > now())
         AND k.retires_at IS DISTINCT FROM s.successor_activates_at`;
  }

  /** Tells every instance to reload the keys, when `tx` commits (NOTIFY on the revocation channel). */
  async announce(tx: Tx): Promise<void> {
    await announce(tx, { kind: KEYS_CHANGED });
  }

  /** Replaces the sealed private part if it is still `sealed` (another instance may have re-sealed it first). */
  async reseal(kid: string, sealed: Uint8Array, resealed: Uint8Array): Promise<void> {
    await this.prisma.signingKey.updateMany({
      where: { kid, privateKeyEncrypted: { equals: new Uint8Array(sealed) } },
      data: { privateKeyEncrypted: new Uint8Array(resealed) },
    });
  }

  /** Whether `kid` is revoked, as the database has it now (the revocation check while memory cannot be trusted). */
  async isRevoked(kid: string): Promise<boolean> {
    const row = await this.prisma.signingKey.findUnique({ where: { kid }, select: { revokedAt: true } });
    return row?.revokedAt != null;
  }

  /**
   * Deletes the keys whose every token has expired: retired, or revoked, more than
   * `seconds` (ACCESS_TOKEN_TTL + a margin) ago. Never a key that has not retired.
   */
  deleteExpired(seconds: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM signing_keys WHERE LEAST(revoked_at, retires_at) < now() - make_interval(secs => ${seconds})`;
  }
}
