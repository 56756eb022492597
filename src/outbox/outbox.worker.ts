import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.constants';
import { DeliveryError, OutboxHandlers, type ClaimedDelivery } from './delivery-handler';
import { OutboxRepository } from './outbox.repository';
import { OutboxWakeups } from './outbox-wakeups';
import { nextAttemptDelay } from './retry-schedule';

/** Deliveries in flight at once on an instance: a slow receiver holds one of them, not the others. */
const MAX_IN_FLIGHT = 32;
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
 * at least every POLL_MAX_MS, and whenever a delivery in flight ends. Each look claims due
 * rows under a lease (OutboxRepository), as many as there is room for (MAX_IN_FLIGHT), and
 * starts their deliveries without waiting for them: a receiver that takes its 10 s delays
 * nothing else. Each outcome is recorded as it comes: delivered (successes that end
 * together are recorded in one statement), retried on OUTBOX_RETRY_SCHEDULE (with jitter),
 * or failed once the schedule is spent.
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxWorker.name);
  private readonly schedule: number[];
  private readonly wakeups: OutboxWakeups;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private running?: Promise<void>;
  /** The last look stopped for want of room, not of due rows: an ending delivery makes room. */
  private moreDue = false;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Successes waiting to be recorded, and the recording under way. */
  private toRecord: Array<{ id: bigint; statusCode?: number }> = [];
  private recording?: Promise<void>;

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
    await Promise.all(this.inFlight);
    await this.recording;
  }

  /** Looks at the outbox now (or right after the round in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timerAt = Infinity;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Looks at the outbox in `ms` at the latest. */
  private wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.stopped || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.wake();
    }, ms).unref();
  }

  private async drain(): Promise<void> {
    let nextLookMs = POLL_MAX_MS;
    try {
      this.moreDue = false;
      for (;;) {
        const room = MAX_IN_FLIGHT - this.inFlight.size;
        if (this.stopped) return;
        if (room <= 0) {
          this.moreDue = true;
          break;
        }
        const claimed = await this.outbox.claimDue(room, LEASE_MS);
        for (const delivery of claimed) this.start(delivery);
        if (claimed.length < room) break;
      }
      const dueAt = await this.outbox.nextDueAt();
      if (dueAt) nextLookMs = Math.min(POLL_MAX_MS, Math.max(0, dueAt.getTime() - Date.now()) + 10);
    } catch (error) {
      this.logger.warn(`Outbox round failed (${(error as Error).message?.split('\n')[0]}); trying again shortly`);
      nextLookMs = ERROR_RETRY_MS;
    }
    this.wakeIn(nextLookMs);
  }

  /**
   * Starts a delivery. When it ends: a success is recorded; a retry arms the timer for its
   * time (the look that claimed it saw only its lease); and if rows were left for want of
   * room, the worker looks again.
   */
  private start(delivery: ClaimedDelivery & { expired: boolean }): void {
    const attempt: Promise<void> = this.attempt(delivery)
      .then(async (outcome) => {
        if (outcome?.delivered) await this.recordDelivered(outcome.delivered);
        if (outcome?.retryInMs !== undefined) this.wakeIn(outcome.retryInMs + 10);
      })
      .finally(() => {
        this.inFlight.delete(attempt);
        if (this.moreDue) this.wake();
      });
    this.inFlight.add(attempt);
  }

  /**
   * Records a success; those that end while a recording is under way are recorded together
   * by the next one. If recording fails, their leases run out and they are sent again (at least once).
   */
  private recordDelivered(success: { id: bigint; statusCode?: number }): Promise<void> {
    this.toRecord.push(success);
    this.recording ??= (async () => {
      while (this.toRecord.length > 0) {
        const batch = this.toRecord.splice(0);
        try {
          await this.outbox.delivered(batch);
        } catch (error) {
          this.logger.warn(`Outbox: could not record ${batch.length} delivery(ies) (${(error as Error).message?.split('\n')[0]})`);
        }
      }
      this.recording = undefined;
    })();
    return this.recording;
  }

  /** One attempt: a failure is recorded here; a success is returned, to be recorded with others; a retry, with its delay. */
  private async attempt(delivery: ClaimedDelivery & { expired: boolean }): Promise<Outcome> {
    try {
      if (delivery.expired) {
        await this.outbox.failed(delivery.id, 'Expired before it could be delivered: dropped', undefined);
        return undefined;
      }
      const handler = this.handlers.for(delivery.kind);
      if (!handler) {
        // This instance cannot deliver that kind (an older version, or the feature is off): leave it to another.
        await this.outbox.retryLater(delivery.id, `No handler for ${delivery.kind} on this instance`, undefined, ERROR_RETRY_MS);
        return { retryInMs: ERROR_RETRY_MS };
      }
      let outcome: { statusCode?: number } | undefined;
      let failure: unknown;
      try {
        outcome = await handler.deliver(delivery);
      } catch (error) {
        failure = error;
      }
      if (outcome) return { delivered: { id: delivery.id, statusCode: outcome.statusCode } };
      const { message, statusCode, permanent } = describeFailure(failure);
      const delay = permanent ? undefined : nextAttemptDelay(this.schedule, delivery.attempt);
      if (delay === undefined) {
        this.logger.warn(
          `Outbox delivery ${delivery.id} (${delivery.kind}, ${delivery.eventType}) failed for good after ${delivery.attempt} attempt(s): ${message}`,
        );
        await this.outbox.failed(delivery.id, message, statusCode);
      } else {
        await this.outbox.retryLater(delivery.id, message, statusCode, delay);
        return { retryInMs: delay };
      }
    } catch (error) {
      // Recording the outcome failed (the database is away): the lease runs out and the row is tried again.
      this.logger.warn(`Outbox delivery ${delivery.id}: could not record the outcome (${(error as Error).message?.split('\n')[0]})`);
      return { retryInMs: ERROR_RETRY_MS };
    }
    return undefined;
  }
}

/** How an attempt ended, for the worker: a success to record, or when to look again. */
type Outcome = { delivered?: { id: bigint; statusCode?: number }; retryInMs?: number } | undefined;

function describeFailure(error: unknown): { message: string; statusCode?: number; permanent: boolean } {
  if (error instanceof DeliveryError) return { message: error.message, statusCode: error.options.statusCode, permanent: error.options.permanent ?? false };
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return { message, permanent: false };
}
