import { availableParallelism } from 'node:os';
import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Who asks for argon2 work. `verify` checks a password someone typed (login, the current
 * password of a change); `hash` makes a new hash (registration, a new password).
 */
export type HashingLane = 'verify' | 'hash';

/** The answer when the gate sheds work: 503 with `Retry-After: 1` (see the exception filter). */
export class HashingBusyException extends HttpException {
  constructor() {
    super(
      { statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: 'The server is busy; try again in a moment', error: 'Service Unavailable' },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
  readonly retryAfterSeconds = 1;
}

export interface HashingGateOptions {
  /** argon2 computations at once. Default: the cores, at most the libuv pool less one thread. */
  slots?: number;
  /** Longest expected wait before a request is shed instead of queued (both lanes; default: DEFAULT_MAX_WAIT_MS). */
  maxWaitMs?: number;
  /** Hard cap on waiting requests per slot and lane, whatever the estimate (memory). */
  queuePerSlot?: number;
  /** Waiting requests per lane never shed on the estimate (default MIN_QUEUE). */
  minQueue?: number;
  /** Milliseconds clock (tests pass their own). */
  now?: () => number;
}

/**
 * Bounds argon2 work so that one client's flood cannot starve everyone's logins.
 *
 * Each argon2id call takes ~40 ms of a libuv thread and 19 MiB. Unbounded, 200
 * registrations queue on the pool and every login waits behind them (measured: median
 * login 44 ms → 520 ms). The gate runs at most `slots` computations at once (more than
 * the cores only adds latency) and queues the rest while the expected wait (queue length
 * × the measured time of one computation ÷ the lane's slots) stays under a bound;
 * past that a request is shed at once with 503 rather than left to wait without limit
 * (DEFAULT_MAX_WAIT_MS).
 * New hashes may hold at most half of the slots, and a freed slot goes to a waiting
 * verification first: a registration flood slows registrations, not sign-ins.
 */
/**
 * Sign-ins may wait longer than registrations: a burst of logins (a deploy that logs every
 * client back in) is legitimate and already limited per IP and per account, while a burst
 * of registrations is what a flood looks like.
 */
export const DEFAULT_MAX_WAIT_MS: Record<HashingLane, number> = { verify: 10_000, hash: 2_000 };
/** Waiting requests per lane that are never shed, whatever the estimate: a burst is not a flood. */
export const MIN_QUEUE = 16;

export class HashingGate {
  readonly slots: number;
  private readonly maxWaitMs: Record<HashingLane, number>;
  private readonly queueLimit: number;
  private readonly now: () => number;
  private readonly minQueue: number;
  /** Moving average of one computation, in ms (updated by every run). */
  private averageMs = 0;
  private readonly running: Record<HashingLane, number> = { verify: 0, hash: 0 };
  private readonly waiting: Record<HashingLane, Array<() => void>> = { verify: [], hash: [] };

  constructor(options: HashingGateOptions = {}) {
    const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    this.slots = options.slots ?? Math.max(1, Math.min(availableParallelism(), pool - 1));
    const wait = options.maxWaitMs;
    this.maxWaitMs = wait === undefined ? DEFAULT_MAX_WAIT_MS : { verify: wait, hash: wait };
    this.queueLimit = this.slots * (options.queuePerSlot ?? 64);
    this.now = options.now ?? (() => performance.now());
    this.minQueue = options.minQueue ?? MIN_QUEUE;
  }

  /** Runs `work` when a slot of `lane` is free; throws HashingBusyException when waiting would take too long. */
  async run<T>(lane: HashingLane, work: () => Promise<T>): Promise<T> {
    if (this.canStart(lane)) {
      this.running[lane]++;
    } else {
      if (this.tooLongToWait(lane)) throw new HashingBusyException();
      // startNext hands the slot over already counted: nobody can take it in between.
      await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    }
    const started = this.now();
    try {
      return await work();
    } finally {
      const took = this.now() - started;
      this.averageMs = this.averageMs === 0 ? took : 0.8 * this.averageMs + 0.2 * took;
      this.running[lane]--;
      this.startNext();
    }
  }

  private tooLongToWait(lane: HashingLane): boolean {
    const queued = this.waiting[lane].length;
    const laneSlots = lane === 'verify' ? this.slots : Math.ceil(this.slots / 2);
    if (queued >= this.queueLimit) return true;
    return queued >= this.minQueue && ((queued + 1) * this.averageMs) / laneSlots > this.maxWaitMs[lane];
  }

  private canStart(lane: HashingLane): boolean {
    if (this.running.verify + this.running.hash >= this.slots) return false;
    return lane === 'verify' || this.running.hash < Math.ceil(this.slots / 2);
  }

  private startNext(): void {
    for (const lane of ['verify', 'hash'] as const) {
      if (this.waiting[lane].length > 0 && this.canStart(lane)) {
        this.running[lane]++;
        this.waiting[lane].shift()!();
        return;
      }
    }
  }
}
