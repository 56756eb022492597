import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import type { Invitation, Role } from '../../generated/prisma/client';

export type InvitationView = Pick<Invitation, 'id' | 'email' | 'role' | 'expiresAt' | 'createdAt' | 'invitedBy'>;
const VIEW = { id: true, email: true, role: true, expiresAt: true, createdAt: true, invitedBy: true } as const;

/**
 * Every query of `invitations`. As with link tokens, only the token's SHA-256 is stored; an
 * invitation is valid while its row exists and has not expired; accepting deletes it (one
 * statement: two acceptances cannot both succeed); one address has one invitation, a new
 * one replacing it (its older link stops working).
 */
@Injectable()
export class InvitationsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * The invitation of `email`, replacing any earlier one. `email` is normalised by the caller
   * (the DTO). Expired invitations go at the same time: only invitations make invitations,
   * so the table never holds more than the admins sent within one INVITATION_TTL.
   */
  async replace(tx: Tx, invitation: { email: string; role: Role; tokenHash: string; invitedBy: string; expiresAt: Date }): Promise<InvitationView> {
    await tx.invitation.deleteMany({ where: { OR: [{ email: invitation.email }, { expiresAt: { lte: new Date() } }] } });
    return tx.invitation.create({ data: invitation, select: VIEW });
  }

  /** Whether a token is valid now, without using it (to refuse a bad link before hashing a password). */
  async isValid(tokenHash: string): Promise<boolean> {
    return (await this.prisma.invitation.count({ where: { tokenHash, expiresAt: { gt: new Date() } } })) > 0;
  }

  /** Uses a valid invitation: deletes it and returns it; undefined when it is unknown, used, revoked or expired. */
  async consume(tx: Tx, tokenHash: string): Promise<Pick<Invitation, 'id' | 'email' | 'role' | 'invitedBy'> | undefined> {
    const [row] = await tx.$queryRaw<Array<Pick<Invitation, 'id' | 'email' | 'role' | 'invitedBy'>>>`
      DELETE FROM invitations WHERE token_hash = ${tokenHash} AND expires_at > now()
      RETURNING id::text AS id, email, role::text AS role, invited_by::text AS "invitedBy"`;
    return row;
  }

  /** The pending (unexpired) invitations, newest first. */
  pending(): Promise<InvitationView[]> {
    return this.prisma.invitation.findMany({ where: { expiresAt: { gt: new Date() } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: VIEW });
  }

  /** Revokes one: its link stops working. The revoked invitation, or null when there was none. */
  async revoke(tx: Tx, id: string): Promise<Pick<Invitation, 'id' | 'email'> | null> {
    const [row] = await tx.$queryRaw<Array<Pick<Invitation, 'id' | 'email'>>>`
      DELETE FROM invitations WHERE id = ${id}::uuid RETURNING id::text AS id, email`;
    return row ?? null;
  }
}
