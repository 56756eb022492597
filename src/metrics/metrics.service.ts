import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Throttled attempts (429) show in http_request_duration_seconds by route and status. */
export type LoginOutcome = 'succeeded' | 'failed';
export type RefreshOutcome = 'rotated' | 'concurrent' | 'invalid' | 'ended' | 'expired' | 'reused';

/**
 * How long a scrape waits for a gauge that reads the database. A database that does not
 * answer must not hold the whole of /metrics: the revocation gauges matter most then, and a
 * scrape that times out would look like an instance down.
 */
export const WATCH_READ_TIMEOUT_MS = 2_000;

/**
 * One read shared by the gauges of a scrape (they are collected together): a query that
 * yields several gauges runs once, not once per gauge; and never a second one while the
 * first has not answered (scrapes of a stalled database do not pile queries up).
 */
export function sharedRead<T>(read: () => Promise<T>, ms = 1000): () => Promise<T> {
  let last: { at: number; value: Promise<T>; settled: boolean } | undefined;
  return () => {
    if (!last || (last.settled && Date.now() - last.at > ms)) {
      const entry = { at: Date.now(), value: read(), settled: false };
      const settle = () => {
        entry.settled = true;
      };
      entry.value.then(settle, settle);
      last = entry;
    }
    return last.value;
  };
}

/** `read()`, or undefined if it fails or takes longer than WATCH_READ_TIMEOUT_MS. */
async function boundedRead<T>(read: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), WATCH_READ_TIMEOUT_MS).unref();
  });
  try {
    return await Promise.race([read().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the revocation side reports when scraped (read at scrape time, never on a request). */
export interface RevocationGauges {
  live(): boolean;
  leaseAgeMs(): number | undefined;
  windowEntries(): number;
}

/**
 * The Prometheus metrics of one instance (prom-client), served at GET /metrics. Counters
 * and histograms are updated where things happen; gauges are read when scraped. Labels
 * are closed sets (route patterns, outcomes), never an id or an email.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer a request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly logins = new Counter({ name: 'auth_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers: [this.registry] });
  private readonly refreshes = new Counter({
    name: 'auth_refreshes_total',
    help: 'Refresh attempts by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly propagation = new Histogram({
    name: 'auth_revocation_propagation_seconds',
    help: 'From a revocation committed on another instance to this instance hearing it',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  /**
   * Counted on every authenticated request, so as plain numbers (prom-client hashes the
   * labels of every `inc`), and handed to the counter when scraped.
   */
  private readonly verificationCounts = { hit: 0, miss: 0 };
  private readonly verifications = new Counter({
    name: 'auth_token_verifications_total',
    help: 'Access-token signature checks: a cache hit reuses an earlier verification of the same token',
    labelNames: ['result'],
    registers: [this.registry],
    collect: () => {
      this.verifications.reset();
      for (const result of ['hit', 'miss'] as const) this.verifications.inc({ result }, this.verificationCounts[result]);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  login(outcome: LoginOutcome): void {
    this.logins.inc({ outcome });
  }

  refresh(outcome: RefreshOutcome): void {
    this.refreshes.inc({ outcome });
  }

  heardRevocation(committedAt: number): void {
    this.propagation.observe(Math.max(0, Date.now() - committedAt) / 1000);
  }

  verification(result: 'hit' | 'miss'): void {
    this.verificationCounts[result]++;
  }

  /** Registers the gauge of the verification cache's size (bounded: see VerifiedTokens). */
  watchVerifiedTokens(size: () => number): void {
    new Gauge({
      name: 'auth_token_verification_cache_entries',
      help: 'Access tokens verified once and remembered until they expire (an LRU, bounded)',
      registers: [this.registry],
      collect() {
        this.set(size());
      },
    });
  }

  /**
   * Registers a gauge read when scraped, by one label (`{ '': n }` for an unlabelled value).
   * The read may query the database: when it fails, takes longer than WATCH_READ_TIMEOUT_MS
   * or yields undefined, that scrape shows no value: a labelled gauge has no series, an
   * unlabelled one is NaN (prom-client always shows those). Either way no alert compares
   * true on it, where a made-up zero could.
   */
  watch(name: string, help: string, read: () => Promise<Record<string, number> | undefined>, labelName?: string): void {
    new Gauge({
      name,
      help,
      labelNames: labelName ? [labelName] : [],
      registers: [this.registry],
      async collect() {
        this.reset();
        const values = await boundedRead(read);
        if (!values && !labelName) this.set(NaN);
        for (const [label, value] of Object.entries(values ?? {})) {
          if (labelName) this.set({ [labelName]: label }, value);
          else this.set(value);
        }
      },
    });
  }

  /** Registers the revocation gauges (RevocationService calls it once it exists). */
  watchRevocation(gauges: RevocationGauges): void {
    new Gauge({
      name: 'auth_revocation_listener_live',
      help: '1 while revocation memory is trusted (lease valid), 0 while checks read the database',
      registers: [this.registry],
      collect() {
        this.set(gauges.live() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'auth_revocation_lease_age_seconds',
      help: 'How long ago memory was last certified complete (absent: never)',
      registers: [this.registry],
      collect() {
        const age = gauges.leaseAgeMs();
        if (age === undefined) this.reset();
        else this.set(age / 1000);
      },
    });
    new Gauge({
      name: 'auth_revocation_window_entries',
      help: 'Revocations held in memory (bounded by one access-token lifetime of revocations)',
      registers: [this.registry],
      collect() {
        this.set(gauges.windowEntries());
      },
    });
  }
}
