import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import type { AppConfig } from '../config/configuration';
import { OutboxHandlers } from './delivery-handler';
import { OutboundHttp } from './outbound-http';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxRepository } from './outbox.repository';
import { OutboxWorker } from './outbox.worker';

/**
 * The transactional outbox (API.md, "Webhooks and back-channel logout"): every outbound
 * delivery (mail, webhook, back-channel logout) is a row written with the change it
 * describes, and delivered by the worker of any instance. A feature declares its kind
 * (outbox-kinds.ts), writes rows through OutboxRepository.enqueue, and marks its
 * DeliveryHandler `@DeliversOutbox(kind)` (OutboxHandlers finds it at start);
 * HTTP deliveries go through OutboundHttp (the SSRF rules, no redirects, 10 s).
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    OutboxRepository,
    OutboxHandlers,
    OutboxWorker,
    OutboxMetrics,
    {
      provide: OutboundHttp,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => new OutboundHttp(config.get('outbox.allowPrivateNetworks', { infer: true })),
    },
  ],
  exports: [OutboxRepository, OutboxHandlers, OutboundHttp],
})
export class OutboxModule {}
