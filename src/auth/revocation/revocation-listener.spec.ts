import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { REVOCATION_CHANNEL } from './revocation-events.repository';
import { LISTEN_TIMEOUT_MS, PROBE_SQL, RevocationListener, type ListenConnection } from './revocation-listener';

/**
 * A LISTEN connection that behaves as `pg.Client` on PostgreSQL does where it matters here:
 * queries issued before the connection is up wait in a queue and run in the order issued;
 * a NOTIFY reaches this connection only on channels it LISTENed to before the NOTIFY ran.
 * `stall()` is a stopped backend or a silent network: nothing is answered, nothing arrives.
 */
class FakeConnection extends EventEmitter implements ListenConnection {
  readonly ran: string[] = [];
  private readonly listening = new Set<string>();
  private readonly queue: Array<() => void> = [];
  private up = false;
  private stalled = false;
  ended = false;
  /** The connect() answer: resolve it to let the connection up. */
  private letUp!: () => void;
  private refuse!: (error: Error) => void;

  constructor(private readonly autoConnect: boolean) {
    super();
  }

  connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.letUp = () => {
        this.up = true;
        resolve();
        this.drain();
      };
      this.refuse = reject;
      if (this.autoConnect) queueMicrotask(() => this.letUp());
    });
  }

  query(sql: string, params: unknown[] = []): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queue.push(() => {
        if (sql.startsWith('LISTEN ')) {
          this.ran.push(sql);
          this.listening.add(sql.slice('LISTEN '.length));
        } else if (sql === PROBE_SQL) {
          this.ran.push('PROBE');
          const [channel, payload] = params as [string, string];
          setTimeout(() => this.deliver(channel, payload), 1);
        }
        resolve();
      });
      this.drain();
    });
  }

  /** Another session's NOTIFY on `channel`. */
  deliver(channel: string, payload: string): void {
    if (!this.stalled && !this.ended && this.listening.has(channel)) this.emit('notification', { channel, payload });
  }

  stall(): void {
    this.stalled = true;
  }

  fail(error = new Error('terminating connection due to administrator command')): void {
    if (!this.up) this.refuse(error);
    else this.emit('error', error);
  }

  end(): Promise<void> {
    this.ended = true;
    return Promise.resolve();
  }

  private drain(): void {
    while (this.up && !this.stalled && this.queue.length > 0) this.queue.shift()!();
  }
}

/** A promise to settle from the spec: a reload on a pool that may be slow or fail. */
function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const MAX_STALENESS_MS = 1_000;
const PROBE_EVERY_MS = MAX_STALENESS_MS / 4;

describe('RevocationListener (the lease state machine)', () => {
  let connections: FakeConnection[];
  let reloads: ReturnType<typeof deferred>[];
  let events: unknown[];
  let autoConnect: boolean;
  let listener: RevocationListener;

  const latest = () => connections.at(-1)!;
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    connections = [];
    reloads = [];
    events = [];
    autoConnect = true;
    listener = new RevocationListener({
      connectionString: 'postgresql://fake',
      maxStalenessMs: MAX_STALENESS_MS,
      onEvent: (notice) => events.push(notice),
      reload: () => {
        reloads.push(deferred());
        return reloads.at(-1)!.promise;
      },
      connection: () => {
        connections.push(new FakeConnection(autoConnect));
        return latest();
      },
    });
  });
  afterEach(async () => {
    await listener.stop();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** Starts the listener and completes its first reload: live, with one probe answered. */
  async function startLive(): Promise<void> {
    void listener.start();
    await advance(0);
    reloads.at(-1)!.resolve();
    await advance(5);
    expect(listener.isLive()).toBe(true);
  }

  it('sends no probe and trusts nothing until the reload after LISTEN has completed, however long it takes', async () => {
    void listener.start();
    await advance(0);
    expect(listener.phase).toBe('reloading');
    await advance(PROBE_EVERY_MS * 12);
    expect(latest().ran).toEqual([`LISTEN ${REVOCATION_CHANNEL}`, expect.stringMatching(/^LISTEN auth_revocation_probe_/)]);
    expect(listener.isLive()).toBe(false);

    // Notifications heard meanwhile are applied (they are newer than LISTEN), but certify nothing.
    latest().deliver(REVOCATION_CHANNEL, JSON.stringify({ kind: 'SESSION_ENDED', userId: 'u', sessionId: 's', at: Date.now(), id: '1' }));
    expect(events).toHaveLength(1);
    // Even an answer on the probe channel (a probe of no live phase) certifies nothing.
    const probeChannel = latest().ran[1].slice('LISTEN '.length);
    latest().deliver(probeChannel, String(Date.now()));
    expect(listener.isLive()).toBe(false);

    const reloadedAt = Date.now();
    reloads[0].resolve();
    await advance(5);
    expect(listener.phase).toBe('live');
    expect(listener.isLive()).toBe(true);
    expect(listener.certifiedAt).toBeGreaterThanOrEqual(reloadedAt);
    expect(latest().ran.at(-1)).toBe('PROBE');
  });

  it('after a killed connection, trusts nothing until the new connection has reloaded, even when the pool is slow', async () => {
    await startLive();
    latest().fail();
    expect(listener.isLive()).toBe(false);
    expect(connections[0].ended).toBe(true);

    await advance(300); // the backoff, then a new connection with its LISTENs
    expect(connections).toHaveLength(2);
    expect(listener.phase).toBe('reloading');
    // The pool is busy: the reload waits for a connection while probe intervals pass.
    await advance(PROBE_EVERY_MS * 8);
    expect(listener.isLive()).toBe(false);
    expect(latest().ran).not.toContain('PROBE');

    reloads[1].resolve();
    await advance(5);
    expect(listener.isLive()).toBe(true);
  });

  it('comes back after a silent stall: the first probe of the new connection goes out after its LISTEN and is heard', async () => {
    await startLive();
    connections[0].stall();
    // No answer: the lease runs out by itself at the staleness bound…
    await advance(MAX_STALENESS_MS + PROBE_EVERY_MS);
    expect(listener.isLive()).toBe(false);
    // …and the connection is declared dead after the probe's patience, on the probe timer's beat.
    await advance(PROBE_EVERY_MS * 8);
    expect(connections[0].ended).toBe(true);

    // The reconnect's delay equals the probe interval, so both timers fire together: a
    // probe issued by the timer before LISTEN would never be heard (the old failure).
    await advance(PROBE_EVERY_MS + 5);
    expect(connections).toHaveLength(2);
    reloads[1].resolve();
    await advance(5);
    expect(latest().ran).toEqual([`LISTEN ${REVOCATION_CHANNEL}`, expect.stringMatching(/^LISTEN /), 'PROBE']);
    expect(listener.isLive()).toBe(true);

    // And it stays live: probes keep being answered on the beat, many patience periods later.
    await advance(PROBE_EVERY_MS * 40);
    expect(listener.isLive()).toBe(true);
    expect(connections).toHaveLength(2);
  });

  it('opens a new connection when the reload fails (no pool connection), and trusts only the reload that succeeds', async () => {
    void listener.start();
    await advance(0);
    reloads[0].reject(new Error('timeout exceeded when trying to connect'));
    await advance(0);
    expect(listener.phase).toBe('lost');
    expect(connections[0].ended).toBe(true);
    await advance(300);
    expect(connections).toHaveLength(2);
    expect(listener.isLive()).toBe(false);
    reloads[1].resolve();
    await advance(5);
    expect(listener.isLive()).toBe(true);
  });

  it("ignores the late reload of a connection already lost: only the current connection's reload certifies", async () => {
    void listener.start();
    await advance(0);
    connections[0].emit('end');
    await advance(300);
    expect(connections).toHaveLength(2);
    expect(reloads).toHaveLength(2);

    reloads[0].resolve(); // the first connection's reload, finishing late
    await advance(PROBE_EVERY_MS * 2);
    expect(listener.phase).toBe('reloading');
    expect(listener.isLive()).toBe(false);
    expect(connections[1].ran).not.toContain('PROBE');

    reloads[1].resolve();
    await advance(5);
    expect(listener.isLive()).toBe(true);
  });

  it('gives up a connection attempt whose LISTEN is never answered, and tries again', async () => {
    autoConnect = false; // the connection never comes up: no answer at all
    void listener.start();
    await advance(LISTEN_TIMEOUT_MS + PROBE_EVERY_MS);
    expect(connections[0].ended).toBe(true);
    autoConnect = true;
    await advance(300);
    expect(connections).toHaveLength(2);
    reloads[0].resolve();
    await advance(5);
    expect(listener.isLive()).toBe(true);
  });

  it('ends the lease at once on a known loss, and by itself at the bound on a silent one', async () => {
    await startLive();
    const certified = listener.certifiedAt!;
    connections[0].stall();
    expect(listener.isLive(certified + MAX_STALENESS_MS)).toBe(true);
    expect(listener.isLive(certified + MAX_STALENESS_MS + 1)).toBe(false);
  });

  it('stays stopped: a reload finishing after stop() neither probes nor reconnects', async () => {
    void listener.start();
    await advance(0);
    await listener.stop();
    reloads[0].resolve();
    await advance(PROBE_EVERY_MS * 20);
    expect(listener.phase).toBe('stopped');
    expect(connections).toHaveLength(1);
    expect(connections[0].ran).not.toContain('PROBE');
  });
});
