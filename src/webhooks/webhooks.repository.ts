import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import { Prisma, type Webhook } from '../generated/prisma/client';

/** A webhook as the admin API shows it: never a secret. */
export type WebhookView = Pick<Webhook, 'id' | 'url' | 'events' | 'description' | 'enabled' | 'disabledReason' | 'createdAt'>;
const VIEW = { id: true, url: true, events: true, description: true, enabled: true, disabledReason: true, createdAt: true } as const;

/** What signing a delivery needs: the endpoint, and its secrets (sealed). */
export type WebhookForDelivery = Pick<Webhook, 'id' | 'url' | 'enabled' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>;

/** How long deliveries are signed with the secret before a rotation too (API.md: 24 h). */
export const PREVIOUS_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface WebhookChanges {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

/** Every query of `webhooks`. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tx: Tx, data: { id: string; url: string; events: string[]; description: string | null; secret: Buffer }): Promise<WebhookView> {
    return tx.webhook.create({ data: { ...data, secret: new Uint8Array(data.secret) }, select: VIEW });
  }

  /** Oldest first. */
  list(): Promise<WebhookView[]> {
    return this.prisma.webhook.findMany({ select: VIEW, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  find(id: string): Promise<WebhookView | null> {
    return this.findIn(this.prisma, id);
  }

  private findIn(tx: Tx, id: string): Promise<WebhookView | null> {
    return tx.webhook.findUnique({ where: { id }, select: VIEW });
  }

  /**
   * The outbox rows of an event of `type`: one per enabled endpoint that receives it, as
   * OutboxRepository.enqueueFrom inserts them (read in the event's transaction, so a delivery
   * goes to what was subscribed when it happened).
   */
  deliveriesOf(type: string, payload: object): Prisma.Sql {
    return Prisma.sql`
      SELECT 'webhook', url, ${type}, ${JSON.stringify(payload)}::jsonb, id
      FROM webhooks WHERE enabled AND ${type} = ANY(events)`;
  }

  forDelivery(id: string): Promise<WebhookForDelivery | null> {
    return this.prisma.webhook.findUnique({
      where: { id },
      select: { id: true, url: true, enabled: true, secret: true, previousSecret: true, previousSecretExpiresAt: true },
    });
  }

  /** Re-enabling clears the reason the server disabled it for. Null when there is no such webhook. */
  async update(tx: Tx, id: string, changes: WebhookChanges): Promise<WebhookView | null> {
    const { count } = await tx.webhook.updateMany({
      where: { id },
      data: { ...changes, ...(changes.enabled === true && { disabledReason: null }) },
    });
    return count === 0 ? null : this.findIn(tx, id);
  }

  /**
   * The new secret becomes current; the current one signs too for 24 h (one statement:
   * two rotations at once cannot both keep "the previous" secret). Whether it exists.
   */
  async rotate(tx: Tx, id: string, sealed: Buffer): Promise<boolean> {
    const changed = await tx.$executeRaw`
      UPDATE webhooks SET
        previous_secret = secret,
        previous_secret_expires_at = statement_timestamp() + ${PREVIOUS_SECRET_OVERLAP_MS}::float8 * interval '1 millisecond',
        secret = ${new Uint8Array(sealed)},
        updated_at = statement_timestamp()
      WHERE id = ${id}::uuid`;
    return changed > 0;
  }

  /** Every endpoint's sealed secrets (for resealing them after an AUTH_SECRET rotation). */
  sealedSecrets(): Promise<Array<Pick<Webhook, 'id' | 'secret' | 'previousSecret'>>> {
    return this.prisma.webhook.findMany({ select: { id: true, secret: true, previousSecret: true } });
  }

  /** Replaces a sealed secret unless it changed meanwhile (a rotation, or another instance resealing first). */
  async reseal(id: string, column: 'secret' | 'previousSecret', before: Uint8Array, after: Buffer): Promise<void> {
    await this.prisma.webhook.updateMany({ where: { id, [column]: { equals: before } }, data: { [column]: new Uint8Array(after) } });
  }

  /** The endpoint answered 410 Gone: disabled until an admin enables it again. */
  async disable(id: string, reason: string): Promise<void> {
    await this.prisma.webhook.updateMany({ where: { id, enabled: true }, data: { enabled: false, disabledReason: reason } });
  }

  async delete(tx: Tx, id: string): Promise<WebhookView | null> {
    const found = await this.findIn(tx, id);
    if (!found) return null;
    await tx.webhook.delete({ where: { id } });
    return found;
  }
}
