import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.constants';
import { DeliveryError, OutboxHandlers, type ClaimedDelivery } from './delivery-handler';
import { OutboxRepository } from './outbox.repository';
import { OutboxWakeups } from './outbox-wakeups';
import { nextAttemptDelay } from './retry-schedule';

/** Rows claimed at once (and delivered concurrently). */
const BATCH = 10;
/** A claim's lease: far above a delivery's own timeouts (SMTP: 10 s to connect, 30 s idle). */
const LEASE_MS = 2 * 60_000;
/**
 * The safety net: at most this long between two looks at the table, whatever was heard:
 * a lease that ran out after a crash, a notification lost while the listener reconnected.
 */
const POLL_MAX_MS = 30_000;
/** After an error reading the table (the database is away): look again this soon. */
const ERROR_RETRY_MS = 5_000;

/**
 * Delivers the outbox, on every instance: woken by NOTIFY when a row commits, by a timer
 * when the earliest pending row comes due (its retry time or a dead worker's lease), and
 * at least every POLL_MAX_MS. Each round claims due rows under a lease (OutboxRepository),
 * delivers them with the handler of their kind, then records the outcome: delivered,
 * retried on OUTBOX_RETRY_SCHEDULE (with jitter), or failed once the schedule is spent.
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxWorker.name);
  private readonly schedule: number[];
  private readonly wakeups: OutboxWakeups;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly handlers: OutboxHandlers,
    config: ConfigService<AppConfig, true>,
    @Inject(DATABASE) database: Database,
  ) {
    this.schedule = config.get('outbox.retrySchedule', { infer: true });
    const listenUrl = config.get('database.listenUrl', { infer: true }) ?? database.connectionString;
    this.wakeups = new OutboxWakeups(database, listenUrl, () => this.wake());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.wakeups.start();
    this.wake();
  }

  /** Stops claiming, and lets the deliveries in flight finish (and be recorded) before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.wakeups.stop();
    await this.running;
  }

  /** Looks at the outbox now (or right after the round in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    let nextLookMs = POLL_MAX_MS;
    try {
      for (;;) {
        if (this.stopped) return;
        const claimed = await this.outbox.claimDue(BATCH, LEASE_MS);
        if (claimed.length === 0) break;
        await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      }
      const dueAt = await this.outbox.nextDueAt();
      if (dueAt) nextLookMs = Math.min(POLL_MAX_MS, Math.max(0, dueAt.getTime() - Date.now()) + 10);
    } catch (error) {
      this.logger.warn(`Outbox round failed (${(error as Error).message?.split('\n')[0]}); trying again shortly`);
      nextLookMs = ERROR_RETRY_MS;
    }
    if (!this.stopped) this.timer = setTimeout(() => this.wake(), nextLookMs).unref();
  }

  private async attempt(delivery: ClaimedDelivery & { expired: boolean }): Promise<void> {
    try {
      if (delivery.expired) {
        await this.outbox.failed(delivery.id, 'Expired before it could be delivered: dropped', undefined);
        return;
      }
      const handler = this.handlers.for(delivery.kind);
      if (!handler) {
        // This instance cannot deliver that kind (an older version, or the feature is off): leave it to another.
        await this.outbox.retryLater(delivery.id, `No handler for ${delivery.kind} on this instance`, undefined, ERROR_RETRY_MS);
        return;
      }
      let outcome: { statusCode?: number } | undefined;
      let failure: unknown;
      try {
        outcome = await handler.deliver(delivery);
      } catch (error) {
        failure = error;
      }
      if (outcome) return await this.outbox.delivered(delivery.id, outcome.statusCode);
      const { message, statusCode, permanent } = describeFailure(failure);
      const delay = permanent ? undefined : nextAttemptDelay(this.schedule, delivery.attempt);
      if (delay === undefined) {
        this.logger.warn(`Outbox delivery ${delivery.id} (${delivery.kind}, ${delivery.eventType}) failed for good after ${delivery.attempt} attempt(s): ${message}`);
        await this.outbox.failed(delivery.id, message, statusCode);
      } else {
        await this.outbox.retryLater(delivery.id, message, statusCode, delay);
      }
    } catch (error) {
      // Recording the outcome failed (the database is away): the lease runs out and the row is tried again.
      this.logger.warn(`Outbox delivery ${delivery.id}: could not record the outcome (${(error as Error).message?.split('\n')[0]})`);
    }
  }
}

function describeFailure(error: unknown): { message: string; statusCode?: number; permanent: boolean } {
  if (error instanceof DeliveryError) return { message: error.message, statusCode: error.options.statusCode, permanent: error.options.permanent ?? false };
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return { message, permanent: false };
}
