import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Client } from 'pg';
import type { AppConfig } from '../../config/configuration';
import type { Database } from '../../database/database';
import { DATABASE } from '../../database/database.constants';
import { PrismaService } from '../../database/prisma.service';
import type { Prisma } from '../../generated/prisma/client';
import { SessionsRepository } from '../sessions/sessions.repository';
import { RevocationEventsRepository, REVOCATION_CHANNEL, type NewRevocation } from './revocation-events.repository';
import { RevocationState, type RevocationEvent, type TokenFacts, type Verdict } from './revocation-state';

export { REVOCATION_CHANNEL, type NewRevocation };

/** Margin added to ACCESS_TOKEN_TTL before an event is forgotten (clock differences). */
const WINDOW_MARGIN_MS = 5_000;
const PRUNE_EVERY_MS = 5_000;
const HEARTBEAT_EVERY_MS = 5_000;
const RECONNECT_MAX_MS = 10_000;

export type Revoke = (event: NewRevocation) => void;

/**
 * Decides, without a database query, whether a verified access token was revoked.
 *
 * Every change that ends access tokens (logout, logout-all, force-logout, password change,
 * disabling, reuse detection, role change) is written as a RevocationEvent row in the same
 * transaction as the change, and announced with NOTIFY when it commits. Each instance
 * keeps the events of the last ACCESS_TOKEN_TTL in memory (RevocationState):
 * - the instance that made the change applies it before it answers;
 * - the others hear it on a dedicated LISTEN connection, within milliseconds;
 * - at start, and after every reconnect of that connection, the whole window is reloaded
 *   from the table, so nothing announced while it was deaf is lost.
 * While the LISTEN connection is down the in-memory state may be incomplete, so the check
 * falls back to reading the session and the user from the database on every request,
 * until the connection is back and the window reloaded. On PGlite there is one process
 * only: applying locally is the whole story.
 */
@Injectable()
export class RevocationService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationService.name);
  private readonly state: RevocationState;
  private readonly windowMs: number;
  /** True while the in-memory state is known to be complete. */
  private live = false;
  private listener?: Client;
  private timers: NodeJS.Timeout[] = [];
  private reconnectDelay = 500;
  private stopped = false;

  constructor(
    private readonly prisma: PrismaService,
    private readonly events: RevocationEventsRepository,
    private readonly sessions: SessionsRepository,
    config: ConfigService<AppConfig, true>,
    @Inject(DATABASE) private readonly database: Database,
  ) {
    this.windowMs = config.get('auth.accessTokenTtl', { infer: true }) * 1000 + WINDOW_MARGIN_MS;
    this.state = new RevocationState(this.windowMs);
  }

  async onModuleInit(): Promise<void> {
    this.timers.push(setInterval(() => this.state.prune(Date.now()), PRUNE_EVERY_MS).unref());
    if (this.database.kind === 'embedded') {
      await this.reload();
      this.live = true;
      return;
    }
    await this.listen().catch((error: Error) => this.lost(error));
    this.timers.push(setInterval(() => void this.heartbeat(), HEARTBEAT_EVERY_MS).unref());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    await this.listener?.end().catch(() => undefined);
  }

  /** Whether the in-memory state is complete (false: every check reads the database). */
  get isLive(): boolean {
    return this.live;
  }

  /** Entries held in memory (bounded by one TTL of revocations). */
  get size(): number {
    return this.state.size;
  }

  /** The verdict on a verified access token: revoked, or valid with the user's current role. */
  async check(token: TokenFacts): Promise<Verdict> {
    return this.live ? this.state.verdict(token) : this.checkInDatabase(token);
  }

  /**
   * Runs `work` in a transaction; the revocations it declares with `revoke` are written
   * in that transaction, announced to the other instances when it commits, and applied
   * here before this method returns, so the caller's response already reflects them.
   */
  async transaction<T>(work: (tx: Prisma.TransactionClient, revoke: Revoke) => Promise<T>): Promise<T> {
    let recorded: RevocationEvent[] = [];
    const result = await this.prisma.$transaction(async (tx) => {
      const declared: NewRevocation[] = [];
      const value = await work(tx, (event) => declared.push(event));
      recorded = await this.events.record(tx, declared);
      return value;
    });
    recorded.forEach((event) => this.state.apply(event));
    return result;
  }

  private async reload(): Promise<void> {
    (await this.events.since(this.windowMs)).forEach((event) => this.state.apply(event));
  }

  private async checkInDatabase(token: TokenFacts): Promise<Verdict> {
    const session = await this.sessions.authority(token.sid);
    if (!session || session.userId !== token.sub || session.ended || token.ver < session.refreshTokenVersion) return { revoked: true };
    return { revoked: false, role: session.role };
  }

  private async listen(): Promise<void> {
    const client = new Client({
      connectionString: this.database.connectionString,
      keepAlive: true,
      // A host that drops packets must not leave the reconnect hanging until the OS gives up.
      connectionTimeoutMillis: 5_000,
      application_name: 'auth-revocation-listener',
    });
    client.on('notification', (message) => {
      if (message.channel !== REVOCATION_CHANNEL || !message.payload) return;
      try {
        this.state.apply(JSON.parse(message.payload) as RevocationEvent);
      } catch {
        this.logger.warn('Ignored a malformed revocation notification');
      }
    });
    client.on('error', (error) => this.lost(error, client));
    client.on('end', () => this.lost(new Error('connection ended'), client));
    this.listener = client;
    await client.connect();
    await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    // LISTEN first, then reload: an event committed in between is both heard and loaded.
    await this.reload();
    this.live = true;
    this.reconnectDelay = 500;
    this.logger.log('Listening for revocations');
  }

  private lost(error: Error, client = this.listener): void {
    if (client !== this.listener || this.stopped) return;
    if (this.live) this.logger.warn(`Revocation listener lost (${error.message}): checking the database per request`);
    this.live = false;
    this.listener = undefined;
    client?.removeAllListeners('end');
    void client?.end().catch(() => undefined);
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    setTimeout(() => {
      if (!this.stopped) this.listen().catch((e: Error) => this.lost(e));
    }, delay).unref();
  }

  /** A connection can die without an error (a silent network drop): ask it something. */
  private async heartbeat(): Promise<void> {
    const client = this.listener;
    if (!client || !this.live) return;
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('heartbeat timed out')), HEARTBEAT_EVERY_MS / 2).unref(),
    );
    await Promise.race([client.query('SELECT 1'), timeout]).catch((error: Error) => this.lost(error, client));
  }
}
