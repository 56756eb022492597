import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import { DELETE_BATCH_SIZE, deleteInBatches } from '../../database/batches';
import type { AccountTokenPurpose } from '../../generated/prisma/client';

/** A link token has this shape; anything else is refused before touching the database. */
export const LINK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** 256 bits from the CSPRNG, base64url: the token of a mailed link. */
export const newLinkToken = (): string => randomBytes(32).toString('base64url');

/** Only this is stored: a database dump yields no usable link. */
export const hashLinkToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Every query of `account_tokens`: the single-use tokens of reset and verification links.
 * A token is valid while its row exists and has not expired; using it deletes the row (one
 * statement, so two concurrent uses cannot both succeed), and a newer token of the same
 * purpose, a password change or a reset delete the older ones.
 */
@Injectable()
export class AccountTokensRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Replaces the user's tokens of `purpose` with this one (an EMAIL_CHANGE holds its new address and the session that asked). */
  async issue(
    tx: Tx,
    token: { userId: string; purpose: AccountTokenPurpose; tokenHash: string; expiresAt: Date; newEmail?: string; sessionId?: string },
  ): Promise<void> {
    await this.voidAll(tx, token.userId, token.purpose);
    await tx.accountToken.create({ data: token });
  }

  /** The user of a valid token, without using it (to refuse a bad link before hashing a password). */
  async holder(purpose: AccountTokenPurpose, tokenHash: string): Promise<string | undefined> {
    const row = await this.prisma.accountToken.findFirst({ where: { tokenHash, purpose, expiresAt: { gt: new Date() } }, select: { userId: true } });
    return row?.userId;
  }

  /** Uses a valid token: deletes it and returns its user; undefined when it is unknown, used or expired. */
  async consume(tx: Tx, purpose: AccountTokenPurpose, tokenHash: string): Promise<string | undefined> {
    const [row] = await tx.$queryRaw<{ user_id: string }[]>`
      DELETE FROM account_tokens
      WHERE token_hash = ${tokenHash} AND purpose = ${purpose}::"AccountTokenPurpose" AND expires_at > now()
      RETURNING user_id::text`;
    return row?.user_id;
  }

  /** Uses a valid EMAIL_CHANGE token, as `consume` does: its user, the new address and the session that asked. */
  async consumeEmailChange(tx: Tx, tokenHash: string): Promise<{ userId: string; newEmail: string; sessionId: string | null } | undefined> {
    const [row] = await tx.$queryRaw<{ user_id: string; new_email: string; session_id: string | null }[]>`
      DELETE FROM account_tokens
      WHERE token_hash = ${tokenHash} AND purpose = 'EMAIL_CHANGE'::"AccountTokenPurpose" AND expires_at > now() AND new_email IS NOT NULL
      RETURNING user_id::text, new_email, session_id::text`;
    return row && { userId: row.user_id, newEmail: row.new_email, sessionId: row.session_id };
  }

  /** Makes every outstanding link of `purpose` of the user useless. */
  async voidAll(tx: Tx, userId: string, purpose: AccountTokenPurpose): Promise<void> {
    await tx.accountToken.deleteMany({ where: { userId, purpose } });
  }

  /** The cleanup: expired tokens (in batches). */
  deleteExpired(): Promise<number> {
    return deleteInBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM account_tokens WHERE token_hash IN (
          SELECT token_hash FROM account_tokens WHERE expires_at <= now() LIMIT ${DELETE_BATCH_SIZE})`,
    );
  }
}
