import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { Database } from '../database/database';
import { ReconnectBackoff } from '../database/reconnect-backoff';
import { OUTBOX_CHANNEL } from './outbox.repository';

/**
 * Calls `wake` whenever a transaction that wrote an outbox row commits, on any instance:
 * LISTEN on a connection of its own (DATABASE_LISTEN_URL when set: PgBouncer in
 * transaction pooling never delivers notifications), or PGlite's in-process LISTEN.
 * A lost connection is reopened with backoff, and `wake` is called once it is back, since
 * a notification may have been missed meanwhile (the worker's poll covers the gap too).
 */
export class OutboxWakeups {
  private readonly logger = new Logger(OutboxWakeups.name);
  private client?: Client;
  private unlisten?: () => Promise<void>;
  private readonly backoff = new ReconnectBackoff();
  private stopped = false;

  constructor(
    private readonly database: Database,
    private readonly listenUrl: string | undefined,
    private readonly wake: () => void,
  ) {}

  async start(): Promise<void> {
    if (this.database.listen) {
      this.unlisten = await this.database.listen(OUTBOX_CHANNEL, () => this.wake());
      return;
    }
    await this.connect().catch((error: Error) => this.lost(error));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.unlisten?.().catch(() => undefined);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.listenUrl,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      application_name: 'auth-outbox-listener',
    });
    client.on('notification', () => this.wake());
    client.on('error', (error) => this.lost(error, client));
    client.on('end', () => this.lost(new Error('connection ended'), client));
    this.client = client;
    await client.connect();
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.backoff.reset();
    this.wake();
  }

  private lost(error: Error, client = this.client): void {
    if (client !== this.client || this.stopped) return;
    this.logger.warn(`Outbox listener lost (${error.message}): polling until it is back`);
    this.client = undefined;
    client?.removeAllListeners('end');
    void client?.end().catch(() => undefined);
    this.backoff.schedule(() => {
      if (!this.stopped) this.connect().catch((e: Error) => this.lost(e));
    });
  }
}
