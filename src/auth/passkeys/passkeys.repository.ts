import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../database/prisma.service';
import type { Tx } from '../../database/tx';
import type { Passkey } from '../../generated/prisma/client';

export type { Passkey } from '../../generated/prisma/client';

/** What registration verified: a new credential to store. */
export interface NewPasskey {
  userId: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  aaguid: string;
  backupEligible: boolean;
  backedUp: boolean;
  name: string;
}

/** The `passkeys` table: every query of it, named after what it answers. */
@Injectable()
export class PasskeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The user's passkeys, oldest first. */
  listOf(userId: string): Promise<Passkey[]> {
    return this.prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
  }

  /** In `tx`: the user's credentials (the options' allow and exclude lists). */
  credentialsOf(tx: Tx, userId: string): Promise<Array<Pick<Passkey, 'credentialId' | 'transports'>>> {
    return tx.passkey.findMany({ where: { userId }, select: { credentialId: true, transports: true }, orderBy: { createdAt: 'asc' } });
  }

  async has(tx: Tx, userId: string): Promise<boolean> {
    return (await tx.passkey.count({ where: { userId } })) > 0;
  }

  /**
   * The credential an assertion names, its row locked: two assertions of one credential go
   * one after the other, so the counter is compared with what the other one wrote.
   */
  async lockByCredentialId(tx: Tx, credentialId: string): Promise<Passkey | null> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM passkeys WHERE credential_id = ${credentialId} FOR UPDATE`;
    return rows[0] ? tx.passkey.findUnique({ where: { id: rows[0].id } }) : null;
  }

  /** The owner's email of a credential (no lock: a rate limit's key only). */
  async ownerEmailOf(credentialId: string): Promise<string | undefined> {
    const row = await this.prisma.passkey.findUnique({ where: { credentialId }, select: { user: { select: { email: true } } } });
    return row?.user.email;
  }

  /** The owner of a credential, in `tx`. */
  async ownerOf(tx: Tx, credentialId: string): Promise<string | undefined> {
    return (await tx.passkey.findUnique({ where: { credentialId }, select: { userId: true } }))?.userId;
  }

  create(tx: Tx, passkey: NewPasskey): Promise<Passkey> {
    return tx.passkey.create({ data: { ...passkey, counter: BigInt(passkey.counter) } });
  }

  /** After a verified assertion: the counter it reported, its backup state, when. */
  async used(tx: Tx, id: string, use: { counter: number; backedUp: boolean }): Promise<void> {
    await tx.passkey.update({ where: { id }, data: { counter: BigInt(use.counter), backedUp: use.backedUp, lastUsedAt: new Date() } });
  }

  async rename(userId: string, id: string, name: string): Promise<Passkey | null> {
    const { count } = await this.prisma.passkey.updateMany({ where: { id, userId }, data: { name } });
    return count === 1 ? this.prisma.passkey.findUnique({ where: { id } }) : null;
  }

  /** Removes one of the user's passkeys: whether it was one. */
  async remove(tx: Tx, userId: string, id: string): Promise<Passkey | null> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM passkeys WHERE id = ${id}::uuid AND user_id = ${userId}::uuid FOR UPDATE`;
    if (!rows[0]) return null;
    return tx.passkey.delete({ where: { id } });
  }

  /** An admin's reset: every passkey of the user. How many there were. */
  async removeAll(tx: Tx, userId: string): Promise<number> {
    return (await tx.passkey.deleteMany({ where: { userId } })).count;
  }
}
