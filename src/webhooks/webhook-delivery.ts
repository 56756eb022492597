import { Injectable } from '@nestjs/common';
import { Webhook as Signer } from 'standardwebhooks';
import { DeliversOutbox, DeliveryError, type ClaimedDelivery, type DeliveryHandler } from '../outbox/delivery-handler';
import { OutboundHttp } from '../outbox/outbound-http';
import { OutboxRepository } from '../outbox/outbox.repository';
import type { WebhookPayload } from './webhook-events';
import { WebhookSecrets } from './webhook-secrets';
import { WebhooksRepository } from './webhooks.repository';

/**
 * Delivers `webhook` rows per the Standard Webhooks specification, signed by the
 * `standardwebhooks` package: `webhook-id` (the same on every attempt), `webhook-timestamp`
 * (this attempt's: receivers refuse old ones), `webhook-signature` (`v1,<base64>`, one per
 * secret: two during a rotation's 24 h). Only a 2xx counts; `410 Gone` disables the
 * endpoint (its pending deliveries fail with it) until an admin enables it again.
 */
@Injectable()
@DeliversOutbox('webhook')
export class WebhookDelivery implements DeliveryHandler {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly outbox: OutboxRepository,
    private readonly http: OutboundHttp,
  ) {}

  async deliver(delivery: ClaimedDelivery): Promise<{ statusCode: number }> {
    const webhook = delivery.endpointId ? await this.webhooks.forDelivery(delivery.endpointId) : null;
    if (!webhook) throw new DeliveryError('Webhook deleted', { permanent: true });
    if (!webhook.enabled) throw new DeliveryError('Webhook disabled', { permanent: true });
    const { messageId, body } = delivery.payload as WebhookPayload;
    const secrets = [webhook.secret];
    if (webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt.getTime() > Date.now())
      secrets.push(webhook.previousSecret);
    const now = new Date();
    let signature: string;
    try {
      signature = secrets.map((sealed) => new Signer(this.secrets.open(sealed, webhook.id)).sign(messageId, now, body)).join(' ');
    } catch {
      throw new DeliveryError('The webhook secret cannot be opened with AUTH_SECRET (sealed under a secret since dropped): rotate it', { permanent: true });
    }
    try {
      const statusCode = await this.http.post({
        url: webhook.url,
        body,
        headers: {
          'content-type': 'application/json',
          'webhook-id': messageId,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        },
      });
      return { statusCode };
    } catch (error) {
      if (error instanceof DeliveryError && error.options.statusCode === 410) {
        const reason = `The endpoint answered 410 Gone on ${now.toISOString()}`;
        await this.webhooks.disable(webhook.id, reason);
        await this.outbox.failPendingOfAlone(webhook.id, 'Webhook disabled (it answered 410 Gone)');
        throw new DeliveryError('Answered 410 Gone: the webhook is disabled', { statusCode: 410, permanent: true });
      }
      throw error;
    }
  }
}
