import { Global, Module } from '@nestjs/common';
import { OutboxHandlers } from './delivery-handler';
import { OutboxRepository } from './outbox.repository';
import { OutboxWorker } from './outbox.worker';

/**
 * The transactional outbox (API.md, "Webhooks and back-channel logout"): every outbound
 * delivery (mail, webhook, back-channel logout) is a row written with the change it
 * describes, and delivered by the worker of any instance. Features write rows through
 * OutboxRepository.enqueue and register a DeliveryHandler for their kind with OutboxHandlers.
 */
@Global()
@Module({
  providers: [OutboxRepository, OutboxHandlers, OutboxWorker],
  exports: [OutboxRepository, OutboxHandlers],
})
export class OutboxModule {}
