import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import type { ArgOf, CommittedEvent, CommittedEvents, EventName, InProcessEvent, InProcessEvents } from './events';

/** What a subscriber of `E` must be: `(payload)` in process, `(tx, payload) => Promise` in a transaction. */
export type HandlerOf<E extends EventName> = E extends CommittedEvent ? (tx: Tx, payload: ArgOf<E>) => Promise<void> : (payload: ArgOf<E>) => unknown;

interface Subscription {
  name: EventName;
  method: string | symbol;
  order: number;
  types?: ReadonlySet<string>;
}

/** The `type` of a payload that has one (an audit event), for `types`. */
const typeOf = (payload: unknown): string | undefined =>
  typeof payload === 'object' && payload !== null && typeof (payload as { type?: unknown }).type === 'string' ? (payload as { type: string }).type : undefined;

const declared = new WeakMap<object, Subscription[]>();

/**
 * Makes the method a subscriber of `name` (see src/events/events.ts for the two kinds and
 * the order). On a provider's method only: the bus finds it when the application starts.
 * `types`, for an event whose payload has a `type` (`audit.recorded`): only those are
 * delivered, and an emitter that asks `has(name, type)` first pays nothing (no transaction
 * of its own) for a type nobody takes.
 */
export function OnEvent<E extends EventName>(name: E, options: { order?: number; types?: Iterable<string> } = {}) {
  return (target: object, method: string | symbol, _descriptor: { value?: HandlerOf<E> }): void => {
    const types = options.types && new Set(options.types);
    declared.set(target, [...(declared.get(target) ?? []), { name, method, order: options.order ?? 0, types }]);
  };
}

interface Subscriber {
  label: string;
  order: number;
  types?: ReadonlySet<string>;
  call: (...args: unknown[]) => unknown;
}

const takes = (subscriber: Subscriber, type: string | undefined): boolean => !subscriber.types || (type !== undefined && subscriber.types.has(type));

/**
 * The one event bus (events.ts has the map and the rules). Subscribers are the `@OnEvent`
 * methods of every provider, found once every provider exists (at the first event or at
 * module init, whichever comes first). Built without DiscoveryService (the command-line
 * tools: `new EventBus(prisma)`), it has no subscribers.
 */
@Injectable()
export class EventBus implements OnModuleInit {
  private readonly logger = new Logger(EventBus.name);
  private table?: Map<EventName, Subscriber[]>;
  /** What runs once each transaction opened by `transaction` commits. */
  private readonly committed = new WeakMap<Tx, Array<() => void>>();

  constructor(
    private readonly prisma: PrismaService,
    @Optional() private readonly discovery?: DiscoveryService,
  ) {}

  onModuleInit(): void {
    this.table ??= this.discover();
  }

  /** An in-process event: every subscriber is called now; none is awaited, none can fail the emitter. */
  emit<E extends InProcessEvent>(name: E, payload: InProcessEvents[E]): void {
    const type = typeOf(payload);
    for (const subscriber of this.subscribers(name)) {
      if (!takes(subscriber, type)) continue;
      try {
        const result = subscriber.call(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.failed(name, subscriber, error));
      } catch (error) {
        this.failed(name, subscriber, error);
      }
    }
  }

  /** A committed event: each subscriber writes in `tx`, one after the other; the first error rolls `tx` back. */
  async emitInTransaction<E extends CommittedEvent>(tx: Tx, name: E, payload: CommittedEvents[E]): Promise<void> {
    const type = typeOf(payload);
    for (const subscriber of this.subscribers(name)) if (takes(subscriber, type)) await subscriber.call(tx, payload);
  }

  /** Whether `name` (of this `type`, for a payload that has one) has any subscriber (none on a bus built without discovery). */
  has(name: EventName, type?: string): boolean {
    return this.subscribers(name).some((subscriber) => type === undefined || takes(subscriber, type));
  }

  /**
   * Runs `work` in a transaction whose `afterCommit` callbacks run once it has committed
   * (never if it rolled back): how a subscriber of a committed event applies to memory
   * what it wrote (RevocationService: the events it declared).
   */
  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const after: Array<() => void> = [];
    const result = await this.prisma.$transaction(async (tx) => {
      this.committed.set(tx, after);
      return work(tx);
    });
    after.forEach((callback) => callback());
    return result;
  }

  /** Queues `callback` for after `tx` commits; throws (so `tx` rolls back) when `tx` was not opened by `transaction`. */
  afterCommit(tx: Tx, callback: () => void): void {
    const after = this.committed.get(tx);
    if (!after) throw new Error('afterCommit needs a transaction opened by EventBus.transaction');
    after.push(callback);
  }

  private subscribers(name: EventName): readonly Subscriber[] {
    this.table ??= this.discover();
    return this.table.get(name) ?? [];
  }

  private discover(): Map<EventName, Subscriber[]> {
    const table = new Map<EventName, Subscriber[]>();
    const seen = new Set<object>();
    for (const wrapper of this.discovery?.getProviders() ?? []) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance) || !wrapper.isDependencyTreeStatic()) continue;
      seen.add(instance);
      for (
        let proto: object | null = Object.getPrototypeOf(instance) as object;
        proto && proto !== Object.prototype;
        proto = Object.getPrototypeOf(proto) as object
      ) {
        for (const { name, method, order, types } of declared.get(proto) ?? []) {
          const call = (instance as Record<string | symbol, (...args: unknown[]) => unknown>)[method].bind(instance);
          const label = `${instance.constructor.name}.${String(method)}`;
          table.set(name, [...(table.get(name) ?? []), { label, order, types, call }]);
        }
      }
    }
    for (const list of table.values()) list.sort((a, b) => a.order - b.order || a.label.localeCompare(b.label));
    return table;
  }

  private failed(name: EventName, subscriber: Subscriber, error: unknown): void {
    this.logger.error(`${subscriber.label} failed on ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
