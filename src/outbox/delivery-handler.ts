import { Injectable } from '@nestjs/common';
import type { OutboxKind } from '../generated/prisma/client';

/** A row of the outbox as a handler receives it: claimed by this instance, leased. */
export interface ClaimedDelivery {
  id: bigint;
  kind: OutboxKind;
  target: string;
  eventType: string;
  /** What the writer left for the handler (never shown by the admin API). */
  payload: unknown;
  /** The webhook endpoint or client it goes to (webhook, backchannel). */
  endpointId: string | null;
  /** This attempt's number, from 1. */
  attempt: number;
}

/** A delivery that succeeded: the receiver's status (an HTTP status, an SMTP reply code). */
export interface Delivered {
  statusCode?: number;
}

/**
 * A failed attempt. `permanent`: retrying cannot help (an SMTP 5xx, an endpoint that
 * answered 410), so the delivery fails now instead of after the whole schedule.
 * The message is shown to admins (`lastError`): never a body or a token.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly options: { statusCode?: number; permanent?: boolean } = {},
  ) {
    super(message);
  }
}

/** Delivers one kind of outbox row (mail, webhook, backchannel): registered with OutboxHandlers. */
export interface DeliveryHandler {
  readonly kind: OutboxKind;
  /** Throws DeliveryError (or anything: a transient failure) when the attempt failed. */
  deliver(delivery: ClaimedDelivery): Promise<Delivered>;
}

/** The handlers by kind. A feature module registers its handler at start (onModuleInit). */
@Injectable()
export class OutboxHandlers {
  private readonly handlers = new Map<OutboxKind, DeliveryHandler>();

  register(handler: DeliveryHandler): void {
    if (this.handlers.has(handler.kind)) throw new Error(`An outbox handler for ${handler.kind} is registered already`);
    this.handlers.set(handler.kind, handler);
  }

  for(kind: OutboxKind): DeliveryHandler | undefined {
    return this.handlers.get(kind);
  }
}
