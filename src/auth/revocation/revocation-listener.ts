import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { ReconnectBackoff } from '../../database/reconnect-backoff';
import { REVOCATION_CHANNEL, type RevocationNotice } from './revocation-events.repository';

/** How many probe intervals a probe may stay unanswered before the connection is declared dead. */
const PROBE_PATIENCE = 8;
/** How long opening the connection and its LISTENs may take before the attempt is given up. */
export const LISTEN_TIMEOUT_MS = 5_000;
/** The lease's probe: a NOTIFY to the listener's own channel, on its own connection. */
export const PROBE_SQL = 'SELECT pg_notify($1, $2)';

/** The LISTEN connection as the listener uses it: what `pg.Client` offers (a fake in the unit spec). */
export interface ListenConnection {
  connect(): Promise<unknown>;
  query(sql: string, params?: unknown[]): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeAllListeners(event?: string): unknown;
  end(): Promise<unknown>;
}

export interface ListenerOptions {
  /** A direct connection: PgBouncer in transaction pooling never delivers LISTEN/NOTIFY. */
  connectionString: string;
  /** The staleness bound: memory is trusted only while it was certified complete this recently. */
  maxStalenessMs: number;
  onEvent(notice: RevocationNotice): void;
  /** Loads the whole window again: called after LISTEN, before memory may be trusted again. */
  reload(): Promise<void>;
  /** Opens connections (default: a `pg.Client`); the unit spec passes a fake. */
  connection?: (connectionString: string) => ListenConnection;
}

/**
 * Where the listener is, per connection:
 * - `connecting`: opening the connection and LISTENing (bounded by LISTEN_TIMEOUT_MS);
 * - `reloading`: LISTENs acknowledged, the window being loaded again (on the pool);
 * - `live`: loaded; probes go out and their answers certify the memory;
 * - `lost`: waiting for the backoff to try again;
 * - `stopped`.
 */
export type ListenerPhase = 'connecting' | 'reloading' | 'live' | 'lost' | 'stopped';

const pgConnection = (connectionString: string): ListenConnection =>
  new Client({
    connectionString,
    keepAlive: true,
    // A host that drops packets must not leave the reconnect hanging until the OS gives up.
    connectionTimeoutMillis: LISTEN_TIMEOUT_MS,
    application_name: 'auth-revocation-listener',
  });

/**
 * The LISTEN connection, and the lease that says how complete the memory it feeds is.
 *
 * A connection can go silent without an error (a dead switch, a cut cable, a stopped
 * backend: no RST, no FIN): a heartbeat that waits for a timeout notices only after
 * seconds, while the memory misses every revocation since. So memory is trusted only
 * under a lease: every `maxStalenessMs / 4` the listener sends a NOTIFY on a channel of
 * its own, on its own connection, and waits to hear it back. PostgreSQL delivers
 * notifications in commit order from one queue, so when the probe sent at time S comes
 * back, every revocation committed after LISTEN and before S has been delivered and
 * applied; the reload that followed LISTEN applied every one committed before it. Both
 * together certify the memory complete up to S (`certifiedAt`). It is trusted while
 * `now - certifiedAt <= maxStalenessMs`; when probes stop coming back the lease runs out
 * by itself, with no timer to fire (a blocked event loop cannot extend it), and the check
 * falls back to the database.
 *
 * Hence the one rule of the state machine: **a probe is sent only once the reload that
 * followed this connection's LISTEN has completed** (phase `live`), and only answers on
 * the current connection count. A probe answered before that reload would certify a
 * memory that still lacks what was committed while no connection listened; a probe sent
 * before LISTEN is never heard at all. A reload that cannot get a pool connection fails
 * (the pool's own timeout) and the connection is opened again: the instance stays on the
 * database meanwhile.
 */
export class RevocationListener {
  private readonly logger = new Logger(RevocationListener.name);
  private readonly probeChannel = `auth_revocation_probe_${randomBytes(6).toString('hex')}`;
  private readonly probeEveryMs: number;
  private readonly open: (connectionString: string) => ListenConnection;
  private readonly backoff = new ReconnectBackoff();
  private tickTimer?: NodeJS.Timeout;
  private client?: ListenConnection;
  private phaseNow: ListenerPhase = 'lost';
  /** When the current phase began (ms). */
  private phaseSince = 0;
  /** Sent-at of the probe in flight on the current connection, if any. */
  private probeSentAt?: number;
  /** Every revocation committed before this instant (ms) has been applied; undefined: none certified. */
  certifiedAt?: number;

  constructor(private readonly options: ListenerOptions) {
    this.probeEveryMs = Math.max(25, Math.floor(options.maxStalenessMs / 4));
    this.open = options.connection ?? pgConnection;
  }

  get phase(): ListenerPhase {
    return this.phaseNow;
  }

  /** Whether the memory may be trusted at `now`. */
  isLive(now = Date.now()): boolean {
    return this.certifiedAt !== undefined && now - this.certifiedAt <= this.options.maxStalenessMs;
  }

  /** How old the certificate is (ms), for the metrics; undefined when there is none. */
  leaseAge(now = Date.now()): number | undefined {
    return this.certifiedAt === undefined ? undefined : now - this.certifiedAt;
  }

  async start(): Promise<void> {
    this.tickTimer = setInterval(() => this.tick(), this.probeEveryMs).unref();
    await this.connect();
  }

  async stop(): Promise<void> {
    this.enter('stopped');
    clearInterval(this.tickTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private enter(phase: ListenerPhase): void {
    this.phaseNow = phase;
    this.phaseSince = Date.now();
  }

  /** One attempt: connect, LISTEN, reload, then probe. Each step first checks that its connection is still the current one. */
  private async connect(): Promise<void> {
    const client = this.open(this.options.connectionString);
    client.on('notification', (message) => this.heard(client, message.channel, message.payload));
    client.on('error', (error) => this.lost(error, client));
    client.on('end', () => this.lost(new Error('connection ended'), client));
    this.client = client;
    this.probeSentAt = undefined;
    this.enter('connecting');
    try {
      await client.connect();
      if (this.client !== client) return;
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
      await client.query(`LISTEN ${this.probeChannel}`);
      if (this.client !== client) return;
      // LISTEN first, then reload: an event committed in between is both heard and loaded.
      this.enter('reloading');
      await this.options.reload();
      if (this.client !== client) return;
    } catch (error) {
      this.lost(error as Error, client);
      return;
    }
    this.enter('live');
    this.backoff.reset();
    this.logger.log('Listening for revocations');
    this.probe(client);
  }

  private heard(client: ListenConnection, channel: string, payload: string | undefined): void {
    if (client !== this.client) return;
    if (channel === this.probeChannel) {
      const sentAt = Number(payload);
      // Only a probe of this connection's live phase certifies (see the class comment).
      if (this.phaseNow !== 'live' || sentAt !== this.probeSentAt) return;
      this.probeSentAt = undefined;
      this.certifiedAt = Math.max(this.certifiedAt ?? 0, sentAt);
      return;
    }
    if (channel !== REVOCATION_CHANNEL || !payload) return;
    try {
      this.options.onEvent(JSON.parse(payload) as RevocationNotice);
    } catch {
      this.logger.warn('Ignored a malformed revocation notification');
    }
  }

  /** Every probe interval: a probe while live; a connection attempt that hangs is given up. */
  private tick(): void {
    const client = this.client;
    if (!client) return;
    if (this.phaseNow === 'live') this.probe(client);
    else if (this.phaseNow === 'connecting' && Date.now() - this.phaseSince > LISTEN_TIMEOUT_MS) this.lost(new Error('LISTEN unanswered'), client);
  }

  /** One probe in flight at a time; one unanswered for too long means the connection is dead. */
  private probe(client: ListenConnection): void {
    const now = Date.now();
    if (this.probeSentAt !== undefined) {
      if (now - this.probeSentAt > this.probeEveryMs * PROBE_PATIENCE) this.lost(new Error('probe unanswered'), client);
      return;
    }
    this.probeSentAt = now;
    client.query(PROBE_SQL, [this.probeChannel, String(now)]).catch((error: Error) => this.lost(error, client));
  }

  private lost(error: Error, client: ListenConnection): void {
    if (client !== this.client || this.phaseNow === 'stopped') return;
    if (this.certifiedAt !== undefined) this.logger.warn(`Revocation listener lost (${error.message}): checking the database per request`);
    // A loss we know of ends the lease at once: from now on events may be missed. (A
    // silent one cannot be known: there the lease runs out by itself.)
    this.certifiedAt = undefined;
    this.client = undefined;
    this.probeSentAt = undefined;
    this.enter('lost');
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.backoff.schedule(() => {
      if (this.phaseNow === 'lost') void this.connect();
    });
  }
}
