import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { ReconnectBackoff } from '../../database/reconnect-backoff';
import { REVOCATION_CHANNEL, type RevocationNotice } from './revocation-events.repository';

/** How many probe intervals a probe may stay unanswered before the connection is declared dead. */
const PROBE_PATIENCE = 8;
/** The lease's probe: a NOTIFY to the listener's own channel, on its own connection. */
export const PROBE_SQL = 'SELECT pg_notify($1, $2)';

export interface ListenerOptions {
  /** A direct connection: PgBouncer in transaction pooling never delivers LISTEN/NOTIFY. */
  connectionString: string;
  /** The staleness bound: memory is trusted only while it was certified complete this recently. */
  maxStalenessMs: number;
  onEvent(notice: RevocationNotice): void;
  /** Loads the whole window again: called after LISTEN, before memory is trusted. */
  reload(): Promise<void>;
}

/**
 * The LISTEN connection, and the lease that says how complete the memory it feeds is.
 *
 * A connection can go silent without an error (a dead switch, a cut cable: no RST, no
 * FIN): a heartbeat that waits for a timeout notices only after seconds, while the
 * memory misses every revocation since. So memory is trusted only under a lease: every
 * `maxStalenessMs / 4` the listener sends a NOTIFY on a channel of its own, on its own
 * connection, and waits to hear it back. PostgreSQL delivers notifications in commit
 * order from one queue, so when the probe sent at time S comes back, every revocation
 * committed before S has been delivered and applied: the memory is certified complete up
 * to S (`certifiedAt`). It is trusted while `now - certifiedAt <= maxStalenessMs`; when
 * probes stop coming back the lease runs out by itself, with no timer to fire (a blocked
 * event loop cannot extend it), and the check falls back to the database.
 */
export class RevocationListener {
  private readonly logger = new Logger(RevocationListener.name);
  private readonly probeChannel = `auth_revocation_probe_${randomBytes(6).toString('hex')}`;
  private readonly probeEveryMs: number;
  private client?: Client;
  private probeTimer?: NodeJS.Timeout;
  /** Sent-at of the probe in flight, if any. */
  private probeSentAt?: number;
  private readonly backoff = new ReconnectBackoff();
  private stopped = false;
  /** Every revocation committed before this instant (ms) has been applied; undefined: none certified. */
  certifiedAt?: number;

  constructor(private readonly options: ListenerOptions) {
    this.probeEveryMs = Math.max(25, Math.floor(options.maxStalenessMs / 4));
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
    this.probeTimer = setInterval(() => this.probe(), this.probeEveryMs).unref();
    await this.connect().catch((error: Error) => this.lost(error));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.connectionString,
      keepAlive: true,
      // A host that drops packets must not leave the reconnect hanging until the OS gives up.
      connectionTimeoutMillis: 5_000,
      application_name: 'auth-revocation-listener',
    });
    client.on('notification', (message) => this.heard(message.channel, message.payload));
    client.on('error', (error) => this.lost(error, client));
    client.on('end', () => this.lost(new Error('connection ended'), client));
    this.client = client;
    this.probeSentAt = undefined;
    await client.connect();
    await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    await client.query(`LISTEN ${this.probeChannel}`);
    // LISTEN first, then reload: an event committed in between is both heard and loaded.
    await this.options.reload();
    this.backoff.reset();
    this.logger.log('Listening for revocations');
    this.probe();
  }

  private heard(channel: string, payload: string | undefined): void {
    if (channel === this.probeChannel) {
      const sentAt = Number(payload);
      if (sentAt === this.probeSentAt) this.probeSentAt = undefined;
      if (Number.isFinite(sentAt)) this.certifiedAt = Math.max(this.certifiedAt ?? 0, sentAt);
      return;
    }
    if (channel !== REVOCATION_CHANNEL || !payload) return;
    try {
      this.options.onEvent(JSON.parse(payload) as RevocationNotice);
    } catch {
      this.logger.warn('Ignored a malformed revocation notification');
    }
  }

  /** One probe in flight at a time; one unanswered for too long means the connection is dead. */
  private probe(): void {
    const client = this.client;
    if (!client || this.stopped) return;
    const now = Date.now();
    if (this.probeSentAt !== undefined) {
      if (now - this.probeSentAt > this.probeEveryMs * PROBE_PATIENCE) this.lost(new Error('probe unanswered'), client);
      return;
    }
    this.probeSentAt = now;
    client.query(PROBE_SQL, [this.probeChannel, String(now)]).catch((error: Error) => this.lost(error, client));
  }

  private lost(error: Error, client = this.client): void {
    if (client !== this.client || this.stopped) return;
    if (this.certifiedAt !== undefined) this.logger.warn(`Revocation listener lost (${error.message}): checking the database per request`);
    // A loss we know of ends the lease at once: from now on events may be missed. (A
    // silent one cannot be known: there the lease runs out by itself.)
    this.certifiedAt = undefined;
    this.client = undefined;
    client?.removeAllListeners('end');
    void client?.end().catch(() => undefined);
    this.backoff.schedule(() => {
      if (!this.stopped) this.connect().catch((e: Error) => this.lost(e));
    });
  }
}
