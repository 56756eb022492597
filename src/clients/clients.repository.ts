import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import { Prisma, type ServiceClient } from '../generated/prisma/client';
import { announce } from '../events/channel';
import { CLIENT_DELETED } from './client-deleted';

/** A client as the admin API shows it: never a secret, never a hash. */
export type ClientView = Pick<ServiceClient, 'id' | 'name' | 'clientId' | 'backchannelLogoutUri' | 'createdAt'>;
const VIEW = { id: true, name: true, clientId: true, backchannelLogoutUri: true, createdAt: true } as const;

/** How long the secret before a rotation keeps working. */
export const PREVIOUS_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** Every query of `clients`. */
@Injectable()
export class ClientsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tx: Tx, data: { name: string; clientId: string; secretHash: Buffer; backchannelLogoutUri: string | null }): Promise<ClientView> {
    return tx.serviceClient.create({ data: { ...data, secretHash: new Uint8Array(data.secretHash) }, select: VIEW });
  }

  /** Oldest first. */
  list(): Promise<ClientView[]> {
    return this.prisma.serviceClient.findMany({ select: VIEW, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /**
   * The outbox rows of `logouts`: one per logout and client with a back-channel logout URI,
   * as OutboxRepository.enqueueFrom inserts them (read in the transaction of the logout).
   */
  logoutDeliveries(logouts: Array<{ eventType: string; payload: object }>): Prisma.Sql {
    return Prisma.sql`
      SELECT 'backchannel', c.backchannel_logout_uri, l.event_type, l.payload, c.id
      FROM clients c CROSS JOIN jsonb_to_recordset(${JSON.stringify(logouts.map((l) => ({ event_type: l.eventType, payload: l.payload })))}::jsonb)
        AS l(event_type text, payload jsonb)
      WHERE c.backchannel_logout_uri IS NOT NULL`;
  }

  /** Where and as whom a logout token is delivered; null once the client is deleted. */
  forBackchannel(id: string): Promise<{ clientId: string; backchannelLogoutUri: string | null } | null> {
    return this.prisma.serviceClient.findUnique({ where: { id }, select: { clientId: true, backchannelLogoutUri: true } });
  }

  /** What authenticating a client needs: its hashes, the previous one only while it is still valid. */
  async credentials(clientId: string): Promise<{ id: string; clientId: string; hashes: Uint8Array[] } | null> {
    const row = await this.prisma.serviceClient.findUnique({
      where: { clientId },
      select: { id: true, clientId: true, secretHash: true, previousSecretHash: true, previousSecretExpiresAt: true },
    });
    if (!row) return null;
    const previousValid = row.previousSecretHash && row.previousSecretExpiresAt && row.previousSecretExpiresAt.getTime() > Date.now();
    return { id: row.id, clientId: row.clientId, hashes: previousValid ? [row.secretHash, row.previousSecretHash!] : [row.secretHash] };
  }

  /**
   * The new secret becomes current; the current one stays valid for 24 h (one
   * statement: two rotations at once cannot both keep "the previous" secret).
   * Returns the client, or null when there is none with this id.
   */
  async rotate(tx: Tx, id: string, secretHash: Buffer): Promise<ClientView | null> {
    const rows = await tx.$queryRaw<ClientView[]>`
      UPDATE clients SET
        previous_secret_hash = secret_hash,
        previous_secret_expires_at = statement_timestamp() + ${PREVIOUS_SECRET_OVERLAP_MS}::float8 * interval '1 millisecond',
        secret_hash = ${new Uint8Array(secretHash)}
      WHERE id = ${id}::uuid
      RETURNING id, name, client_id AS "clientId", backchannel_logout_uri AS "backchannelLogoutUri", created_at AS "createdAt"`;
    return rows[0] ?? null;
  }

  /** Deletes the client and announces it (its feeds close on every instance when this commits). */
  async delete(tx: Tx, id: string): Promise<ClientView | null> {
    const rows = await tx.$queryRaw<ClientView[]>`
      DELETE FROM clients WHERE id = ${id}::uuid
      RETURNING id, name, client_id AS "clientId", backchannel_logout_uri AS "backchannelLogoutUri", created_at AS "createdAt"`;
    if (rows.length === 0) return null;
    await announce(tx, { kind: CLIENT_DELETED, clientId: rows[0].clientId });
    return rows[0];
  }
}
