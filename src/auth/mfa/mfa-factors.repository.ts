import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';

/** A stored recovery code's hash: SHA-256 of its normal form (dashes and case do not matter). */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.replace(/[\s-]/g, '').toLowerCase()).digest('hex');
}

export interface TotpRow {
  secretSealed: Uint8Array;
  confirmedAt: Date | null;
}

/**
 * The second factors' tables: `totp_factors` and `recovery_codes` (one owner, since the
 * rules tie them: codes exist only beside a factor, and removing the factor removes them).
 */
@Injectable()
export class MfaFactorsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** GET /auth/mfa: the factor's state and the codes left. */
  async status(userId: string): Promise<{ confirmedAt: Date | null; remaining: number }> {
    const [totp, remaining] = await Promise.all([
      this.prisma.totpFactor.findUnique({ where: { userId }, select: { confirmedAt: true } }),
      this.prisma.recoveryCode.count({ where: { userId } }),
    ]);
    return { confirmedAt: totp?.confirmedAt ?? null, remaining };
  }

  /** Read in `tx`, the row locked: a confirm, a disable and a sign-in of one user go one at a time. */
  async lockTotp(tx: Tx, userId: string): Promise<TotpRow | null> {
    const rows = await tx.$queryRaw<Array<{ secret_sealed: Uint8Array; confirmed_at: Date | null }>>`
      SELECT secret_sealed, confirmed_at FROM totp_factors WHERE user_id = ${userId}::uuid FOR UPDATE`;
    return rows[0] ? { secretSealed: rows[0].secret_sealed, confirmedAt: rows[0].confirmed_at } : null;
  }

  /** A pending factor: replaces a pending one (never a confirmed one: false then). */
  async startTotp(tx: Tx, userId: string, secretSealed: Uint8Array<ArrayBuffer>): Promise<boolean> {
    const written = await tx.$executeRaw`
      INSERT INTO totp_factors (user_id, secret_sealed) VALUES (${userId}::uuid, ${secretSealed})
      ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, created_at = now(), last_used_step = NULL
      WHERE totp_factors.confirmed_at IS NULL`;
    return written === 1;
  }

  /**
   * Accepts a code of time step `step` once: compare-and-set, so that of two requests
   * with one code (or with codes of one step) only the first passes; a code of an
   * earlier step than one accepted is refused too. `confirmed` names which state the factor must be in.
   */
  async acceptStep(tx: Tx, userId: string, step: number, confirmed: boolean): Promise<boolean> {
    const updated = await tx.$executeRaw`
      UPDATE totp_factors SET last_used_step = ${BigInt(step)},
        confirmed_at = CASE WHEN confirmed_at IS NULL THEN now() ELSE confirmed_at END
      WHERE user_id = ${userId}::uuid
        AND (confirmed_at IS NOT NULL) = ${confirmed}
        AND (last_used_step IS NULL OR last_used_step < ${BigInt(step)})`;
    return updated === 1;
  }

  /** AUTH_SECRET_PREVIOUS opened it: sealed again under AUTH_SECRET, unless another request did first. */
  async reseal(tx: Tx, userId: string, from: Uint8Array<ArrayBuffer>, to: Uint8Array<ArrayBuffer>): Promise<void> {
    await tx.$executeRaw`UPDATE totp_factors SET secret_sealed = ${to} WHERE user_id = ${userId}::uuid AND secret_sealed = ${from}`;
  }

  async hasConfirmedTotp(tx: Tx, userId: string): Promise<boolean> {
    return (await tx.totpFactor.count({ where: { userId, confirmedAt: { not: null } } })) > 0;
  }

  /** Removes every second factor of the user (TOTP, pending or not, and its codes). Whether one was confirmed. */
  async removeAll(tx: Tx, userId: string): Promise<{ hadTotp: boolean; codes: number }> {
    const removed = await tx.totpFactor.deleteMany({ where: { userId, confirmedAt: { not: null } } });
    await tx.totpFactor.deleteMany({ where: { userId } });
    const codes = await tx.recoveryCode.deleteMany({ where: { userId } });
    return { hadTotp: removed.count > 0, codes: codes.count };
  }

  /** A new set of codes (their hashes) replaces the previous one. */
  async replaceRecoveryCodes(tx: Tx, userId: string, hashes: string[]): Promise<void> {
    await tx.recoveryCode.deleteMany({ where: { userId } });
    await tx.recoveryCode.createMany({ data: hashes.map((codeHash) => ({ codeHash, userId })) });
  }

  /** Uses a code: deleted by this statement, so it signs in once even when sent twice at once. Whether it was one. */
  async useRecoveryCode(tx: Tx, userId: string, code: string): Promise<boolean> {
    return (await tx.recoveryCode.deleteMany({ where: { userId, codeHash: hashRecoveryCode(code) } })).count === 1;
  }

  remainingCodes(tx: Tx, userId: string): Promise<number> {
    return tx.recoveryCode.count({ where: { userId } });
  }
}
