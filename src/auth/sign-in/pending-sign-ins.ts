import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/configuration';
import { PrismaService } from '../../database/prisma.service';
import { deleteInBatches, DELETE_BATCH_SIZE } from '../../database/batches';
import type { Tx } from '../../database/tx';
import type { Acr } from '@nest-auth-backend/token-contract';
import type { MfaRequiredDto } from './mfa-required.dto';
import type { SignInFacts } from './sign-in-facts';

/** Wrong codes a pending sign-in survives: the 5th burns it (API.md, "Second factors"). */
export const MFA_MAX_FAILED_ATTEMPTS = 5;

/** A pending sign-in as its second step finds it. */
export interface PendingSignIn {
  tokenHash: string;
  facts: SignInFacts;
  methods: string[];
}

const hashOf = (mfaToken: string) => createHash('sha256').update(mfaToken).digest('hex');

/**
 * Sign-ins that proved a first factor and wait for a further step (`pending_sign_ins`,
 * this class owns it). The mfaToken is 256 bits from a CSPRNG and only its SHA-256 is
 * stored (like refresh tokens: a fast hash suffices for a secret of full entropy); the row
 * holds the first step's facts (the credential stamp included, compared again under the
 * user's lock when the session finally opens), the methods offered, an expiry
 * (MFA_TOKEN_TTL) and the wrong codes so far. It is never a session: no refresh token,
 * no cookie, no device until the second step succeeds.
 */
@Injectable()
export class PendingSignIns {
  private readonly ttlSeconds: number;

  constructor(
    private readonly prisma: PrismaService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlSeconds = config.get('auth.mfaTokenTtl', { infer: true });
  }

  /** Stores the pending sign-in in `tx` (the first step's transaction, the user's row locked). */
  async start(tx: Tx, facts: SignInFacts, methods: string[]): Promise<MfaRequiredDto> {
    const mfaToken = randomBytes(32).toString('base64url');
    // This user's expired ones go as a new one comes (only the password's owner makes them).
    await tx.pendingSignIn.deleteMany({ where: { userId: facts.userId, expiresAt: { lte: new Date() } } });
    await tx.pendingSignIn.create({
      data: {
        tokenHash: hashOf(mfaToken),
        userId: facts.userId,
        amr: facts.amr,
        acr: facts.acr,
        credential: facts.credential,
        methods,
        expiresAt: new Date(Date.now() + this.ttlSeconds * 1000),
      },
    });
    return { mfaRequired: true, mfaToken, methods, expiresIn: this.ttlSeconds };
  }

  /** The live pending sign-in of `mfaToken`, its row locked (two attempts with one token go one after the other). */
  async lock(tx: Tx, mfaToken: string): Promise<PendingSignIn | null> {
    const rows = await tx.$queryRaw<Array<{ token_hash: string; user_id: string; amr: string[]; acr: string; credential: string; methods: string[] }>>`
      SELECT token_hash, user_id, amr, acr, credential, methods FROM pending_sign_ins
      WHERE token_hash = ${hashOf(mfaToken)} AND expires_at > now() AND failed_attempts < ${MFA_MAX_FAILED_ATTEMPTS}
      FOR UPDATE`;
    const row = rows[0];
    if (!row) return null;
    return { tokenHash: row.token_hash, methods: row.methods, facts: { userId: row.user_id, amr: row.amr, acr: row.acr as Acr, credential: row.credential } };
  }

  /** The email of the account a live mfaToken signs in to (no lock: the rate limit's key only). */
  async emailOf(mfaToken: string): Promise<string | undefined> {
    const row = await this.prisma.pendingSignIn.findFirst({
      where: { tokenHash: hashOf(mfaToken), expiresAt: { gt: new Date() } },
      select: { user: { select: { email: true } } },
    });
    return row?.user.email;
  }

  /** The live pending sign-in of `mfaToken`, unlocked (a passkey step's options: its user and methods). */
  async peek(mfaToken: string): Promise<PendingSignIn | null> {
    const row = await this.prisma.pendingSignIn.findFirst({
      where: { tokenHash: hashOf(mfaToken), expiresAt: { gt: new Date() }, failedAttempts: { lt: MFA_MAX_FAILED_ATTEMPTS } },
    });
    if (!row) return null;
    return { tokenHash: row.tokenHash, methods: row.methods, facts: { userId: row.userId, amr: row.amr, acr: row.acr as Acr, credential: row.credential } };
  }

  /** A wrong code: one more failure; the MFA_MAX_FAILED_ATTEMPTS-th deletes it (burnt). */
  async fail(tx: Tx, tokenHash: string): Promise<void> {
    await tx.$executeRaw`UPDATE pending_sign_ins SET failed_attempts = failed_attempts + 1 WHERE token_hash = ${tokenHash}`;
    await tx.$executeRaw`DELETE FROM pending_sign_ins WHERE token_hash = ${tokenHash} AND failed_attempts >= ${MFA_MAX_FAILED_ATTEMPTS}`;
  }

  /** Used (or refused for good): gone. */
  async finish(tx: Tx, tokenHash: string): Promise<void> {
    await tx.pendingSignIn.deleteMany({ where: { tokenHash } });
  }

  /** The cleanup job: pending sign-ins past their expiry (a user's next first step also drops theirs), in batches. */
  deleteExpired(): Promise<number> {
    return deleteInBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM pending_sign_ins WHERE token_hash IN (
          SELECT token_hash FROM pending_sign_ins WHERE expires_at <= now() LIMIT ${DELETE_BATCH_SIZE})`,
    );
  }
}
