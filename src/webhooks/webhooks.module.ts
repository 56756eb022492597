import { Module } from '@nestjs/common';
import { KeysModule } from '../auth/keys/keys.module';
import { SERVER_SECRETS, type ServerSecrets } from '../auth/tokens/server-secret';
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
  imports: [KeysModule],
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
