import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import type { Database } from '../database/database';
import { DeliveryError, OutboxHandlers, type ClaimedDelivery, type Delivered, type DeliveryHandler } from './delivery-handler';
import type { OutboxKind } from './outbox-kinds';
import type { OutboxRepository } from './outbox.repository';
import { OutboxWorker } from './outbox.worker';

/**
 * The outbox worker's state machine, with the table and the receivers replaced by fakes:
 * what it claims (how many, under which lease), what it records for each outcome
 * (delivered in batches, retried on the schedule, failed when the schedule is spent or the
 * failure is permanent, dropped when expired), when it looks again, and how it stops.
 * Time is Jest's: nothing here waits on the clock.
 */
type Row = ClaimedDelivery & { expired: boolean };

const KIND = 'mail' as OutboxKind;
const LEASE_MS = 120_000;
const MAX_IN_FLIGHT = 32;
const ERROR_RETRY_MS = 5_000;
const SCHEDULE = [0, 1_000, 60_000];

let nextId = 1n;
const row = (over: Partial<Row> = {}): Row => ({
  id: nextId++,
  kind: KIND,
  target: 'someone@example.com',
  eventType: 'password-reset',
  payload: {},
  endpointId: null,
  attempt: 1,
  expired: false,
  ...over,
});

/** The table: `due` rows are handed out by claimDue; every write is recorded in `calls`. */
function fakeOutbox() {
  const fake = {
    due: [] as Row[],
    calls: [] as Array<[string, ...unknown[]]>,
    claims: [] as Array<{ limit: number; leaseMs: number }>,
    claimError: undefined as Error | undefined,
    deliveredError: undefined as Error | undefined,
    /** While set, recording a success waits for it (a slow statement). */
    deliveredGate: undefined as Promise<void> | undefined,
    claimDue: (limit: number, leaseMs: number) => {
      fake.claims.push({ limit, leaseMs });
      if (fake.claimError) return Promise.reject(fake.claimError);
      return Promise.resolve(fake.due.splice(0, limit));
    },
    nextDueAt: () => Promise.resolve(undefined),
    delivered: (rows: Array<{ id: bigint; statusCode?: number }>) => {
      fake.calls.push(['delivered', rows.map((r) => [r.id, r.statusCode])]);
      if (fake.deliveredError) return Promise.reject(fake.deliveredError);
      return fake.deliveredGate ?? Promise.resolve();
    },
    retryLater: (id: bigint, error: string, statusCode: number | undefined, delayMs: number) => {
      fake.calls.push(['retryLater', id, error, statusCode, delayMs]);
      return Promise.resolve();
    },
    failed: (id: bigint, error: string, statusCode: number | undefined) => {
      fake.calls.push(['failed', id, error, statusCode]);
      return Promise.resolve();
    },
  };
  return fake;
}

/** A receiver whose every delivery waits until the spec settles it. */
function fakeReceiver() {
  const pending = new Map<bigint, { resolve: (d: Delivered) => void; reject: (e: unknown) => void }>();
  const seen: ClaimedDelivery[] = [];
  const handler: DeliveryHandler = {
    deliver: (delivery) => {
      seen.push(delivery);
      return new Promise<Delivered>((resolve, reject) => pending.set(delivery.id, { resolve, reject }));
    },
  };
  return { handler, pending, seen };
}

const config = {
  get: (key: string) => (key === 'outbox.retrySchedule' ? SCHEDULE : undefined),
} as unknown as ConfigService<AppConfig, true>;
const database = { kind: 'embedded' } as unknown as Database;

describe('OutboxWorker', () => {
  let outbox: ReturnType<typeof fakeOutbox>;
  let receiver: ReturnType<typeof fakeReceiver>;
  let worker: OutboxWorker;
  /** Lets every promise that can settle settle (fake timers leave setImmediate real). */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    jest.spyOn(Math, 'random').mockReturnValue(0.5); // no jitter: the schedule's delays exactly
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    outbox = fakeOutbox();
    receiver = fakeReceiver();
    const handlers = new OutboxHandlers();
    handlers.add(KIND, receiver.handler);
    worker = new OutboxWorker(outbox as unknown as OutboxRepository, handlers, config, database);
  });

  afterEach(async () => {
    const stopping = worker.beforeApplicationShutdown();
    for (const { resolve } of receiver.pending.values()) resolve({});
    await stopping;
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('claims due rows under a lease, delivers them without waiting on each other, and records successes that end during a recording in one statement', async () => {
    const [a, b, c] = [row(), row(), row()];
    outbox.due.push(a, b, c);
    worker.wake();
    await settle();
    expect(outbox.claims[0]).toEqual({ limit: MAX_IN_FLIGHT, leaseMs: LEASE_MS });
    expect([...receiver.pending.keys()]).toEqual([a.id, b.id, c.id]);

    let recorded!: () => void;
    outbox.deliveredGate = new Promise<void>((resolve) => (recorded = resolve));
    receiver.pending.get(b.id)!.resolve({ statusCode: 204 });
    await settle();
    expect(outbox.calls).toEqual([['delivered', [[b.id, 204]]]]);
    // Two that end while b's statement is under way: recorded together by the next one.
    receiver.pending.get(a.id)!.resolve({ statusCode: 200 });
    receiver.pending.get(c.id)!.resolve({ statusCode: 250 });
    await settle();
    expect(outbox.calls).toHaveLength(1);
    outbox.deliveredGate = undefined;
    recorded();
    await settle();
    expect(outbox.calls.slice(1)).toEqual([
      [
        'delivered',
        [
          [a.id, 200],
          [c.id, 250],
        ],
      ],
    ]);
  });

  it('retries a transient failure on the schedule, and looks again when it comes due', async () => {
    const first = row({ attempt: 1 });
    outbox.due.push(first);
    worker.wake();
    await settle();
    receiver.pending.get(first.id)!.reject(new DeliveryError('Answered 503', { statusCode: 503 }));
    await settle();
    expect(outbox.calls).toEqual([['retryLater', first.id, 'Answered 503', 503, 1_000]]);

    // The retry is due in 1 s: the worker looks then, not at its 30 s poll.
    const claimsBefore = outbox.claims.length;
    outbox.due.push({ ...first, attempt: 2 });
    jest.advanceTimersByTime(1_000 + 10);
    await settle();
    expect(outbox.claims.length).toBe(claimsBefore + 1);
    expect(receiver.seen.map((d) => [d.id, d.attempt])).toEqual([
      [first.id, 1],
      [first.id, 2],
    ]);
  });

  it('fails a delivery once the schedule is spent, and at once when the failure is permanent', async () => {
    const spent = row({ attempt: SCHEDULE.length });
    const refused = row({ attempt: 1 });
    outbox.due.push(spent, refused);
    worker.wake();
    await settle();
    receiver.pending.get(spent.id)!.reject(new Error('connect ECONNREFUSED\nstack…'));
    receiver.pending.get(refused.id)!.reject(new DeliveryError('Answered 410', { statusCode: 410, permanent: true }));
    await settle();
    expect(outbox.calls).toEqual([
      ['failed', spent.id, 'connect ECONNREFUSED', undefined],
      ['failed', refused.id, 'Answered 410', 410],
    ]);
  });

  it('drops an expired row without an attempt, and leaves a kind it has no handler for to another instance', async () => {
    const expired = row({ expired: true });
    const unknown = row({ kind: 'fax' });
    outbox.due.push(expired, unknown);
    worker.wake();
    await settle();
    expect(receiver.pending.size).toBe(0);
    expect(outbox.calls).toEqual([
      ['failed', expired.id, 'Expired before it could be delivered: dropped', undefined],
      ['retryLater', unknown.id, 'No handler for fax on this instance', undefined, ERROR_RETRY_MS],
    ]);
  });

  it('holds at most MAX_IN_FLIGHT deliveries: the rest wait in the table until one ends', async () => {
    outbox.due.push(...Array.from({ length: MAX_IN_FLIGHT + 5 }, () => row()));
    worker.wake();
    await settle();
    expect(receiver.pending.size).toBe(MAX_IN_FLIGHT);
    expect(outbox.due).toHaveLength(5);
    const claims = outbox.claims.length;

    // A wake-up while full claims nothing…
    worker.wake();
    await settle();
    expect(outbox.claims.length).toBe(claims);
    // …a delivery that ends makes room, and the worker claims exactly that much.
    const [firstId, first] = [...receiver.pending.entries()][0];
    first.resolve({});
    receiver.pending.delete(firstId);
    await settle();
    expect(outbox.claims.at(-1)).toEqual({ limit: 1, leaseMs: LEASE_MS });
    expect(outbox.due).toHaveLength(4);
  });

  it('looks again soon after a round fails (the database is away), and at least every 30 s otherwise', async () => {
    outbox.claimError = new Error('connection refused');
    worker.wake();
    await settle();
    expect(outbox.claims).toHaveLength(1);
    outbox.claimError = undefined;
    jest.advanceTimersByTime(ERROR_RETRY_MS);
    await settle();
    expect(outbox.claims).toHaveLength(2);
    jest.advanceTimersByTime(30_000 - 1);
    await settle();
    expect(outbox.claims).toHaveLength(2);
    jest.advanceTimersByTime(1);
    await settle();
    expect(outbox.claims).toHaveLength(3);
  });

  it('survives a success it cannot record (its lease runs out and it is sent again)', async () => {
    outbox.deliveredError = new Error('connection lost');
    const one = row();
    outbox.due.push(one);
    worker.wake();
    await settle();
    receiver.pending.get(one.id)!.resolve({});
    await settle();
    expect(outbox.calls).toEqual([['delivered', [[one.id, undefined]]]]);
    outbox.deliveredError = undefined;
    outbox.due.push({ ...one, attempt: 2 });
    worker.wake();
    await settle();
    expect(outbox.claims).toHaveLength(2);
  });

  it('on stop, claims nothing more but lets the deliveries in flight finish and be recorded', async () => {
    const one = row();
    outbox.due.push(one);
    worker.wake();
    await settle();
    let stopped = false;
    const stopping = worker.beforeApplicationShutdown().then(() => (stopped = true));
    outbox.due.push(row());
    worker.wake();
    await settle();
    expect(outbox.claims).toHaveLength(1);
    expect(stopped).toBe(false);
    receiver.pending.get(one.id)!.resolve({ statusCode: 200 });
    receiver.pending.delete(one.id);
    await stopping;
    expect(outbox.calls).toEqual([['delivered', [[one.id, 200]]]]);
    jest.advanceTimersByTime(60_000);
    await settle();
    expect(outbox.claims).toHaveLength(1);
  });
});
