import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/configuration';
import type { Database } from '../../database/database';
import { DATABASE } from '../../database/database.constants';
import type { Tx } from '../../database/tx';
import { FEED_EVENT_KINDS } from '@nest-auth-backend/revocation-window';
import { EventBus, OnEvent } from '../../events/event-bus';
import { MetricsService } from '../../metrics/metrics.service';
import { SessionsRepository } from '../sessions/sessions.repository';
import { FallbackChecks } from './fallback-checks';
import { RecentRevocations } from './recent-revocations';
import { RevocationEventsRepository, REVOCATION_CHANNEL, type NewRevocation, type RevocationNotice } from './revocation-events.repository';
import { RevocationListener } from './revocation-listener';
import { RevocationState, type RevocationEvent, type TokenFacts, type Verdict } from './revocation-state';

export { REVOCATION_CHANNEL, type NewRevocation };

/** Margin added to ACCESS_TOKEN_TTL before an event is forgotten (clock differences). */
const WINDOW_MARGIN_MS = 5_000;
const PRUNE_EVERY_MS = 5_000;

export type Revoke = (event: NewRevocation) => void;

/**
 * Decides, without a database query, whether a verified access token was revoked.
 *
 * Every change that ends access tokens (logout, logout-all, force-logout, password change,
 * disabling, reuse detection, role change) is written as a RevocationEvent row in the same
 * transaction as the change, and announced with NOTIFY when it commits. Each instance
 * keeps the events of the last ACCESS_TOKEN_TTL in memory (RevocationState):
 * - the instance that made the change applies it before it answers;
 * - the others hear it on a dedicated LISTEN connection (RevocationListener), within
 *   milliseconds; at start and after every reconnect the window is reloaded;
 * - memory is trusted only under the listener's lease: certified complete within
 *   REVOCATION_MAX_STALENESS. Outside it (a silent partition, a reconnect) each check
 *   reads the database instead (FallbackChecks), so a revoked token is refused at most
 *   REVOCATION_MAX_STALENESS after its revocation committed, whatever the network does.
 * On PGlite there is one process only: applying locally is the whole story.
 *
 * What it holds and hears goes out on the event bus (src/events/events.ts), never to a
 * caller it knows: each event the first time it is held (`revocation.first-heard`: the
 * feed), each key revoked (`key-revocation.heard`: KEY_REVOKED, an event like the others:
 * it is in the window, so a restarted instance refuses that key's tokens too), each bare
 * notice of the channel (`channel.notice`: a key added, a client deleted), and every
 * reload of the window (`channel.resynced`: a notice may have been missed, SigningKeys
 * reloads). Inside the transaction, the revocations declared go to
 * `revocations.declared` (back-channel logout); a key revoked by SigningKeys comes in on
 * `signing-key.revoked` and is declared like any other.
 */
@Injectable()
export class RevocationService implements OnModuleInit, OnApplicationShutdown {
  private readonly state: RevocationState;
  private readonly windowMs: number;
  private readonly listener?: RevocationListener;
  private readonly fallback: FallbackChecks;
  private pruneTimer?: NodeJS.Timeout;
  /** The window's events as a list, for the feed's replay. */
  private readonly recent: RecentRevocations;

  constructor(
    private readonly bus: EventBus,
    private readonly events: RevocationEventsRepository,
    sessions: SessionsRepository,
    config: ConfigService<AppConfig, true>,
    @Inject(DATABASE) private readonly database: Database,
    metrics: MetricsService,
  ) {
    this.windowMs = config.get('auth.accessTokenTtl', { infer: true }) * 1000 + WINDOW_MARGIN_MS;
    this.state = new RevocationState(this.windowMs);
    this.recent = new RecentRevocations(this.windowMs);
    const maxStalenessMs = config.get('auth.revocationMaxStalenessMs', { infer: true });
    const keys = { isRevoked: (kid: string) => events.isKeyRevoked(kid) };
    this.fallback = new FallbackChecks(sessions, keys, maxStalenessMs, (kid) => this.heard({ kind: 'KEY_REVOKED', kid, at: Date.now() }));
    const listenUrl = config.get('database.listenUrl', { infer: true }) ?? database.connectionString;
    if (database.kind === 'server' && listenUrl) {
      this.listener = new RevocationListener({
        connectionString: listenUrl,
        maxStalenessMs,
        onEvent: (notice) => {
          if ('at' in notice) metrics.heardRevocation(notice.at);
          this.heard(notice);
        },
        reload: () => this.reload(),
      });
    }
    metrics.watchRevocation({ live: () => this.isLive, leaseAgeMs: () => this.listener?.leaseAge(), windowEntries: () => this.state.size });
  }

  async onModuleInit(): Promise<void> {
    this.pruneTimer = setInterval(() => {
      this.state.prune(Date.now());
      this.recent.prune(Date.now());
    }, PRUNE_EVERY_MS).unref();
    if (this.listener) await this.listener.start();
    else await this.reload();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.listener?.stop();
  }

  /** Whether the in-memory state may be trusted now (false: checks read the database). */
  get isLive(): boolean {
    return this.listener?.isLive() ?? true;
  }

  /**
   * The instant up to which memory is certified complete (every revocation committed
   * before it has been applied here), or undefined while it is not live. On PGlite (one
   * process, every change applied before its response) that is now.
   */
  certifiedAt(now = Date.now()): number | undefined {
    if (!this.listener) return now;
    return this.listener.isLive(now) ? this.listener.certifiedAt : undefined;
  }

  /** The window's events, oldest heard first: what the feed replays on every connect. */
  windowEvents(): RevocationEvent[] {
    return this.recent.list();
  }

  /** How long a client keeps each event after its `at` (ms): ACCESS_TOKEN_TTL and a margin. */
  get window(): number {
    return this.windowMs;
  }

  /** Entries held in memory (bounded by one TTL of revocations). */
  get size(): number {
    return this.state.size;
  }

  /**
   * The verdict on a verified access token: revoked, or valid with the user's current role.
   * Synchronous when memory decides (every request while it is trusted): a promise only
   * when the database must be asked.
   */
  check(token: TokenFacts): Verdict | Promise<Verdict> {
    const known = this.state.verdict(token);
    // What memory knows is revoked is revoked, live or not (this instance's own changes included).
    if (known.revoked || this.isLive) return known;
    return this.fallback.check(token);
  }

  /**
   * Runs `work` in a transaction; the revocations it declares with `revoke` are written
   * in that transaction, announced to the other instances when it commits, and applied
   * here before this method returns, so the caller's response already reflects them.
   */
  async transaction<T>(work: (tx: Tx, revoke: Revoke) => Promise<T>): Promise<T> {
    return this.bus.transaction(async (tx) => {
      const declared: NewRevocation[] = [];
      const value = await work(tx, (event) => declared.push(event));
      await this.declare(tx, declared);
      return value;
    });
  }

  /** SigningKeys revokes a key in `tx` (its own transaction, under the keys lock): declared here like any revocation. */
  @OnEvent('signing-key.revoked')
  async keyRevoked(tx: Tx, { kid }: { kid: string }): Promise<void> {
    await this.declare(tx, [{ kind: 'KEY_REVOKED', kid }]);
  }

  /** Writes `declared` in `tx` (with their NOTIFYs), hands them to `revocations.declared` there, and applies them here once `tx` commits. */
  private async declare(tx: Tx, declared: NewRevocation[]): Promise<void> {
    const recorded = await this.events.record(tx, declared);
    if (recorded.length === 0) return;
    await this.bus.emitInTransaction(tx, 'revocations.declared', recorded);
    this.bus.afterCommit(tx, () => recorded.forEach((event) => this.heard(event)));
  }

  private heard(notice: RevocationNotice): void {
    if (!isRevocationEvent(notice)) {
      this.bus.emit('channel.notice', notice);
      return;
    }
    this.state.apply(notice);
    if (this.recent.add(notice)) this.bus.emit('revocation.first-heard', notice);
    if (notice.kind === 'KEY_REVOKED') this.bus.emit('key-revocation.heard', { kid: notice.kid });
  }

  private async reload(): Promise<void> {
    // As `heard` does: events missed while disconnected reach the feed's clients too.
    (await this.events.since(this.windowMs)).forEach((event) => {
      this.state.apply(event);
      if (this.recent.add(event)) this.bus.emit('revocation.first-heard', event);
    });
    this.bus.emit('channel.resynced', {});
  }
}

/** A revocation event (a row, one of the window's kinds), not a bare notice. */
function isRevocationEvent(notice: RevocationNotice): notice is RevocationEvent {
  return Object.hasOwn(FEED_EVENT_KINDS, notice.kind);
}
