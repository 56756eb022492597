import { Module } from '@nestjs/common';
import { SecretModule } from '../auth/secret/secret.module';
import { SERVER_SECRETS, type ServerSecrets } from '../auth/secret/server-secret';
import { WebhookDelivery } from './webhook-delivery';
import { WebhookEvents } from './webhook-events';
import { WebhookSecrets } from './webhook-secrets';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/**
 * Webhooks (API.md, "Webhooks and back-channel logout"): endpoints registered by admins
 * (AdminWebhooksController, WebhooksService) receive the audit events they subscribe to
 * (WebhookEvents writes the outbox rows in each event's transaction), signed per Standard
 * Webhooks and delivered by the outbox worker (WebhookDelivery).
 */
@Module({
  imports: [SecretModule],
  providers: [
    WebhooksRepository,
    WebhooksService,
    WebhookEvents,
    WebhookDelivery,
    { provide: WebhookSecrets, inject: [SERVER_SECRETS], useFactory: (secrets: ServerSecrets) => new WebhookSecrets(secrets) },
  ],
  exports: [WebhooksService],
})
export class WebhooksModule {}
