import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import { Prisma, type Identity } from '../../generated/prisma/client';

export type NewIdentity = Pick<Identity, 'userId' | 'provider' | 'issuer' | 'subject' | 'email' | 'emailVerified'>;

/** P2002 on (issuer, subject): that identity is linked already (a concurrent callback won). */
export const isIdentityTaken = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

/** Every query of `identities`: accounts at other providers, keyed on (issuer, subject), never on an email. */
@Injectable()
export class IdentitiesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The identity `(issuer, subject)`, whoever it belongs to. */
  findBySubject(tx: Tx, issuer: string, subject: string): Promise<Identity | null> {
    return tx.identity.findUnique({ where: { issuer_subject: { issuer, subject } } });
  }

  /** Throws P2002 (`isIdentityTaken`) when `(issuer, subject)` is linked already. */
  create(tx: Tx, identity: NewIdentity): Promise<Identity> {
    return tx.identity.create({ data: identity });
  }

  /** A user's identities, oldest first. */
  listOf(userId: string): Promise<Identity[]> {
    return this.prisma.identity.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** Removes the user's identity `id`: what it was, or null when the user has no such identity. */
  async remove(tx: Tx, userId: string, id: string): Promise<Pick<Identity, 'id' | 'provider' | 'issuer' | 'email'> | null> {
    const [row] = await tx.$queryRaw<Array<Pick<Identity, 'id' | 'provider' | 'issuer' | 'email'>>>`
      DELETE FROM identities WHERE id = ${id}::uuid AND user_id = ${userId}::uuid RETURNING id, provider, issuer, email`;
    return row ?? null;
  }

  /** Removes every identity of the user: what they were. */
  removeAll(tx: Tx, userId: string): Promise<Array<Pick<Identity, 'id' | 'provider' | 'issuer' | 'email'>>> {
    return tx.$queryRaw`DELETE FROM identities WHERE user_id = ${userId}::uuid RETURNING id, provider, issuer, email`;
  }

  countOf(tx: Tx, userId: string): Promise<number> {
    return tx.identity.count({ where: { userId } });
  }
}
