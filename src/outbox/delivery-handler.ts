import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { OutboxKind } from './outbox-kinds';

/** A row of the outbox as a handler receives it: claimed by this instance, leased. */
export interface ClaimedDelivery {
  id: bigint;
  /** As the row has it: possibly a kind this instance has no handler for (see OutboxWorker). */
  kind: string;
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

/** Delivers one kind of outbox row: a provider marked `@DeliversOutbox(kind)`. */
export interface DeliveryHandler {
  /** Throws DeliveryError (or anything: a transient failure) when the attempt failed. */
  deliver(delivery: ClaimedDelivery): Promise<Delivered>;
}

const kindOf = new WeakMap<object, OutboxKind>();

/** Makes the provider the handler of `kind` (one per kind): `grep -rn "@DeliversOutbox('mail')"` finds it. */
export function DeliversOutbox(kind: OutboxKind) {
  return (target: abstract new (...args: never[]) => DeliveryHandler): void => {
    kindOf.set(target, kind);
  };
}

/**
 * The handlers by kind: every provider marked `@DeliversOutbox`, found at start (two for one
 * kind stop the start). Built without DiscoveryService (a unit spec), it starts with none:
 * `add` them.
 */
@Injectable()
export class OutboxHandlers implements OnModuleInit {
  private readonly handlers = new Map<string, DeliveryHandler>();

  constructor(@Optional() private readonly discovery?: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery?.getProviders() ?? []) {
      const kind = wrapper.metatype ? kindOf.get(wrapper.metatype) : undefined;
      if (kind && wrapper.instance) this.add(kind, wrapper.instance as DeliveryHandler);
    }
  }

  add(kind: OutboxKind, handler: DeliveryHandler): void {
    const known = this.handlers.get(kind);
    if (known && known !== handler) throw new Error(`Two outbox handlers for ${kind}`);
    this.handlers.set(kind, handler);
  }

  for(kind: string): DeliveryHandler | undefined {
    return this.handlers.get(kind);
  }
}
