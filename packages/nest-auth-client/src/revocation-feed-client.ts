import { fromFeedEvent, RevocationState } from '@nest-auth-backend/revocation-window';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
/** A connection that has not sent `ready` this long (a host that accepts and never answers) is dropped. */
const READY_TIMEOUT_MS = 10_000;
/** Until `ready` tells the real window: the auth server's default (15 min) and its margin. */
const DEFAULT_WINDOW_MS = 15 * 60_000 + 5_000;

export interface FeedClientOptions {
  url: string;
  authorization: string;
  maxStalenessMs: number;
  log?: (message: string) => void;
}

/**
 * The revocation feed (GET /auth/revocations), read with the global fetch's streaming
 * body and parsed by eventsource-parser, into the same RevocationState the auth server
 * holds. Memory is trusted (`isTrusted`) only after `ready` on the current connection and
 * while the last heartbeat certified a time within `maxStalenessMs`: a cut that nothing
 * reports (no FIN, no RST) ends trust by itself when heartbeats stop, and the watchdog
 * then drops the connection and reconnects; trust returns only with the next `ready`.
 */
export class RevocationFeedClient {
  readonly state = new RevocationState(DEFAULT_WINDOW_MS);
  /** `min(heartbeat at, its arrival)`: a server clock ahead of ours cannot stretch trust. */
  private certifiedAt?: number;
  private ready = false;
  private abort?: AbortController;
  private connectedAt = 0;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private watchdog?: NodeJS.Timeout;
  private pruner?: NodeJS.Timeout;
  /** Connections opened so far (the example and its specs count them). */
  connects = 0;

  constructor(private readonly options: FeedClientOptions) {}

  start(): void {
    this.watchdog = setInterval(() => this.checkStaleness(), Math.max(25, Math.floor(this.options.maxStalenessMs / 4))).unref();
    this.pruner = setInterval(() => this.state.prune(Date.now()), 5_000).unref();
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearInterval(this.pruner);
    this.abort?.abort();
  }

  /** Whether memory may answer now: `ready` received on this connection, and a heartbeat within the bound. */
  isTrusted(now = Date.now()): boolean {
    return this.ready && this.certifiedAt !== undefined && now - this.certifiedAt <= this.options.maxStalenessMs;
  }

  private checkStaleness(): void {
    if (!this.ready && this.abort && Date.now() - this.connectedAt > READY_TIMEOUT_MS) this.abort.abort();
    if (this.ready && !this.isTrusted()) {
      this.options.log?.('Revocation feed stale: introspecting every request until it is ready again');
      this.ready = false;
      this.abort?.abort();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.connect();
      } catch (error) {
        if (!this.stopped) this.options.log?.(`Revocation feed lost (${(error as Error).message}); reconnecting`);
      }
      this.ready = false;
      this.certifiedAt = undefined;
      if (this.stopped) return;
      await new Promise((resolve) => setTimeout(resolve, this.reconnectDelay).unref());
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    }
  }

  private async connect(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    this.connectedAt = Date.now();
    this.connects++;
    const response = await fetch(this.options.url, {
      headers: { authorization: this.options.authorization, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`the feed answered ${response.status}`);
    }
    const parser = createParser({ onEvent: (message) => this.heard(message) });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) throw new Error('the feed closed');
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } finally {
      abort.abort();
    }
  }

  private heard(message: EventSourceMessage): void {
    const name = message.event ?? 'message';
    if (name === 'ready' || name === 'heartbeat') {
      const data = parseJson(message.data);
      if (typeof data?.at !== 'number') return;
      if (name === 'ready') {
        if (typeof data.windowMs === 'number' && data.windowMs > 0) this.state.setWindow(data.windowMs);
        this.ready = true;
        this.reconnectDelay = RECONNECT_MIN_MS;
      }
      if (this.ready) this.certifiedAt = Math.max(this.certifiedAt ?? 0, Math.min(data.at, Date.now()));
      return;
    }
    const event = fromFeedEvent(name, message.data, message.id);
    if (event) this.state.apply(event);
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
