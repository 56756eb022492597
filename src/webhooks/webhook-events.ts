import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuditEventDto } from '../audit/audit-event.dto';
import { AuditService } from '../audit/audit.service';
import type { AuditEvent, Prisma } from '../generated/prisma/client';
import { OutboxRepository } from '../outbox/outbox.repository';
import { WEBHOOK_EVENT_TYPES } from './webhook-event-types';
import { WebhooksRepository } from './webhooks.repository';

/** What a webhook row carries to its delivery: no secret, no token (the audit event never holds one). */
export interface WebhookPayload {
  /** `webhook-id`: the audit event's, the same on every attempt and for every endpoint. */
  messageId: string;
  /** The exact JSON sent: `{ type, timestamp, data }`. */
  body: string;
}

/**
 * Turns audit events into webhook deliveries: for each event of a WEBHOOK_EVENT_TYPES type,
 * one outbox row per enabled endpoint subscribed to it, written in the event's own
 * transaction (AuditService runs its subscribers there). A change that rolls back sends
 * nothing; one that commits is delivered, whatever happens to this process next.
 */
@Injectable()
export class WebhookEvents implements OnModuleInit {
  constructor(
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksRepository,
    private readonly outbox: OutboxRepository,
  ) {}

  onModuleInit(): void {
    this.audit.subscribe(WEBHOOK_EVENT_TYPES, (tx, event) => this.enqueue(tx, event));
  }

  /** One statement, with or without endpoints: a logout pays one round trip for its webhooks. */
  private async enqueue(tx: Prisma.TransactionClient, event: AuditEvent): Promise<void> {
    const payload: WebhookPayload = {
      messageId: `msg_${event.id}`,
      body: JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data: AuditEventDto.from(event) }),
    };
    await this.outbox.enqueueFrom(tx, this.webhooks.deliveriesOf(event.type, payload));
  }
}
