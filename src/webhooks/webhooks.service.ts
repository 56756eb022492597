import { Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import type { ClientMeta } from '../common/client-meta';
import { PrismaService } from '../database/prisma.service';
import type { OutboxDelivery } from '../generated/prisma/client';
import { OutboxRepository } from '../outbox/outbox.repository';
import { newWebhookSecret, WebhookSecrets } from './webhook-secrets';
import { WebhooksRepository, type WebhookChanges, type WebhookView } from './webhooks.repository';

export const WEBHOOK_NOT_FOUND = 'Webhook not found';

declare module '../audit/audit-types' {
  interface AuditTypes {
    'webhook.created': true;
    'webhook.updated': true;
    'webhook.secret_rotated': true;
    'webhook.deleted': true;
    'webhook.delivery_retried': true;
  }
}
export const DELIVERY_NOT_FOUND = 'Delivery not found';

interface Actor {
  actorId: string;
  client: ClientMeta;
}

/** The audit log names an endpoint by its origin: a URL's path or query may carry a receiver's own secret. */
const facts = (webhook: Pick<WebhookView, 'id' | 'url' | 'events'>) => ({ id: webhook.id, origin: new URL(webhook.url).origin, events: webhook.events });

/** Webhook endpoints (admin): registering them, their secrets, their deliveries. */
@Injectable()
export class WebhooksService implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly outbox: OutboxRepository,
    private readonly audit: AuditService,
    private readonly prisma: PrismaService,
  ) {}

  /**
   * After an AUTH_SECRET rotation, seals again under the new secret what the previous one
   * sealed, so that AUTH_SECRET_PREVIOUS can be dropped (as the signing keys do). A secret
   * neither opens is logged: that endpoint's deliveries fail until it gets a new secret.
   */
  async onApplicationBootstrap(): Promise<void> {
    for (const row of await this.webhooks.sealedSecrets()) {
      for (const column of ['secret', 'previousSecret'] as const) {
        const sealed = row[column];
        if (!sealed) continue;
        try {
          const resealed = this.secrets.resealed(sealed, row.id);
          if (resealed) await this.webhooks.reseal(row.id, column, sealed, resealed);
        } catch (error) {
          this.logger.error(
            `Webhook ${row.id}: its ${column === 'secret' ? 'secret' : 'previous secret'} cannot be opened here (${(error as Error).message}); rotate it (POST /admin/webhooks/${row.id}/secret)`,
          );
        }
      }
    }
  }

  /** The new endpoint with its secret: the only time the secret is shown. */
  async create(input: { url: string; events: string[]; description?: string | null }, actor: Actor): Promise<WebhookView & { secret: string }> {
    const id = randomUUID();
    const secret = newWebhookSecret();
    const created = await this.prisma.$transaction(async (tx) => {
      const webhook = await this.webhooks.create(tx, {
        id,
        url: input.url,
        events: [...new Set(input.events)],
        description: input.description ?? null,
        secret: this.secrets.seal(secret, id),
      });
      await this.audit.record(tx, { type: 'webhook.created', actorId: actor.actorId, client: actor.client, data: facts(webhook) });
      return webhook;
    });
    return { ...created, secret };
  }

  list(): Promise<WebhookView[]> {
    return this.webhooks.list();
  }

  /** Enabling again an endpoint the server disabled (it answered 410) is how it comes back. */
  async update(id: string, changes: WebhookChanges, actor: Actor): Promise<WebhookView> {
    return this.prisma.$transaction(async (tx) => {
      const updated = await this.webhooks.update(tx, id, { ...changes, ...(changes.events && { events: [...new Set(changes.events)] }) });
      if (!updated) throw new NotFoundException(WEBHOOK_NOT_FOUND);
      await this.audit.record(tx, {
        type: 'webhook.updated',
        actorId: actor.actorId,
        client: actor.client,
        data: {
          ...facts(updated),
          enabled: updated.enabled,
          changed: Object.keys(changes)
            .filter((key) => changes[key as keyof WebhookChanges] !== undefined)
            .sort(),
        },
      });
      return updated;
    });
  }

  /** A new secret; deliveries are signed with the one it replaces too, for 24 h. */
  async rotateSecret(id: string, actor: Actor): Promise<{ secret: string }> {
    const secret = newWebhookSecret();
    await this.prisma.$transaction(async (tx) => {
      if (!(await this.webhooks.rotate(tx, id, this.secrets.seal(secret, id)))) throw new NotFoundException(WEBHOOK_NOT_FOUND);
      await this.audit.record(tx, { type: 'webhook.secret_rotated', actorId: actor.actorId, client: actor.client, data: { id } });
    });
    return { secret };
  }

  /** Its pending deliveries fail with it (their history stays in /admin/outbox). */
  async delete(id: string, actor: Actor): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const deleted = await this.webhooks.delete(tx, id);
      if (!deleted) throw new NotFoundException(WEBHOOK_NOT_FOUND);
      await this.outbox.failPendingOf(tx, id, 'Webhook deleted');
      await this.audit.record(tx, { type: 'webhook.deleted', actorId: actor.actorId, client: actor.client, data: facts(deleted) });
    });
  }

  /** Newest first. */
  async deliveries(id: string, page: { beforeId?: bigint; take: number }): Promise<OutboxDelivery[]> {
    if (!(await this.webhooks.find(id))) throw new NotFoundException(WEBHOOK_NOT_FOUND);
    return this.outbox.page({ kind: 'webhook', endpointId: id, ...page });
  }

  /** Due again now, same `webhook-id`, signed afresh. */
  async retry(id: string, deliveryId: bigint, actor: Actor): Promise<void> {
    if (!(await this.webhooks.find(id))) throw new NotFoundException(WEBHOOK_NOT_FOUND);
    if (!(await this.outbox.retryNow(deliveryId, id))) throw new NotFoundException(DELIVERY_NOT_FOUND);
    await this.audit.recordAlone({
      type: 'webhook.delivery_retried',
      actorId: actor.actorId,
      client: actor.client,
      data: { id, deliveryId: deliveryId.toString() },
    });
  }
}
