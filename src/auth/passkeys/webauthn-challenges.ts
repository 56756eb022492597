import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';

/** API.md: a challenge lives 5 minutes. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

/** The ceremony a challenge was made for: an answer counts only for its own. */
export type Ceremony = 'registration' | 'sign-in' | 'second-step' | 'reauthentication';

/** What a challenge is bound to besides its ceremony. */
export interface ChallengeBinding {
  /** The signed-in user (registration, re-authentication) or the pending sign-in's user. */
  userId?: string;
  /** Second step: the pending sign-in (SHA-256 of its mfaToken). */
  pendingSignIn?: string;
}

export interface IssuedChallenge {
  /** Handed to the client, which sends it back with the answer: 256 bits, only its hash stored. */
  challengeId: string;
  /** The WebAuthn challenge (base64url, 256 bits), for the options. */
  challenge: string;
}

const hashOf = (challengeId: string) => createHash('sha256').update(challengeId).digest('hex');

/**
 * WebAuthn challenges (`webauthn_challenges`, this class owns it), kept in the database so
 * that the options and the answer may reach different instances. 256 random bits each,
 * bound to the ceremony and (when known) the user or pending sign-in, single use: the
 * transaction that verifies an answer deletes its challenge first, so of two answers to one
 * challenge only one finds it.
 */
@Injectable()
export class WebauthnChallenges {
  constructor(private readonly prisma: PrismaService) {}

  async issue(ceremony: Ceremony, binding: ChallengeBinding): Promise<IssuedChallenge> {
    const challengeId = randomBytes(32).toString('base64url');
    const challenge = randomBytes(32).toString('base64url');
    const now = Date.now();
    // The expired ones go as new ones come: a cheap delete on an index, no job needed.
    await this.prisma.webauthnChallenge.deleteMany({ where: { expiresAt: { lte: new Date(now) } } });
    await this.prisma.webauthnChallenge.create({
      data: {
        idHash: hashOf(challengeId),
        challenge,
        ceremony,
        userId: binding.userId ?? null,
        pendingSignIn: binding.pendingSignIn ?? null,
        expiresAt: new Date(now + CHALLENGE_TTL_MS),
      },
    });
    return { challengeId, challenge };
  }

  /**
   * Takes (deletes) the challenge `challengeId` in `tx`: its value if it is live, of this
   * ceremony and bound to exactly `binding`; otherwise null. Taken either way: a wrong
   * answer spends it too.
   */
  async take(tx: Tx, challengeId: string, ceremony: Ceremony, binding: ChallengeBinding): Promise<string | null> {
    const rows = await tx.$queryRaw<Array<{ challenge: string; ceremony: string; user_id: string | null; pending_sign_in: string | null; live: boolean }>>`
      DELETE FROM webauthn_challenges WHERE id_hash = ${hashOf(challengeId)}
      RETURNING challenge, ceremony, user_id::text AS user_id, pending_sign_in, expires_at > now() AS live`;
    const row = rows[0];
    if (!row?.live || row.ceremony !== ceremony) return null;
    if ((row.user_id ?? undefined) !== binding.userId || (row.pending_sign_in ?? undefined) !== binding.pendingSignIn) return null;
    return row.challenge;
  }
}
