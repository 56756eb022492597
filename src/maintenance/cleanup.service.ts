import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { describeError } from '../common/http-exception.filter';
import type { AppConfig } from '../config/configuration';
import { SigningKeysRepository } from '../auth/keys/signing-keys.repository';
import { RevocationEventsRepository } from '../auth/revocation/revocation-events.repository';
import { AccountTokensRepository } from '../auth/recovery/account-tokens.repository';
import { SessionsRepository } from '../auth/sessions/sessions.repository';
import { PendingSignIns } from '../auth/sign-in/pending-sign-ins';
import { OutboxRepository } from '../outbox/outbox.repository';
import { PostgresThrottlerStorage } from '../throttling/postgres-throttler.storage';

export const CLEANUP_JOB = 'cleanup';
export const CLEANUP_EVERY_MS = 10 * 60_000;
/**
 * How long an ended session stays: "my devices" and support can tell why it ended, and a
 * replayed refresh token of it is still answered "Session has ended" (and its audit
 * events can be joined to it) for a month. The audit trail itself is never purged here.
 */
export const ENDED_SESSION_RETENTION_DAYS = 30;
/** How long a delivered or failed outbox row stays, for /admin/outbox. */
export const CLOSED_DELIVERY_RETENTION_DAYS = 30;
/** Revocation events matter for one access token lifetime; this margin covers clock skew. */
const REVOCATION_MARGIN_SECONDS = 60;

export interface CleanupReport {
  sessions: number;
  revocationEvents: number;
  throttleBuckets: number;
  signingKeys: number;
  accountTokens: number;
  outboxDeliveries: number;
  pendingSignIns: number;
}

/**
 * Deletes what can no longer matter, every 10 minutes on every instance (the deletes are
 * idempotent, so instances running it together only share the work):
 * - sessions never ended but past their idle or absolute expiry (their rotated refresh
 *   tokens go with them, ON DELETE CASCADE), and ended sessions after the retention;
 * - revocation events older than ACCESS_TOKEN_TTL + a margin: every token they refuse has expired;
 * - throttle buckets whose window and block are over;
 * - signing keys retired (or revoked) longer than ACCESS_TOKEN_TTL + a margin ago: no
 *   token they signed can still be valid (the key that signs now never retired);
 * - expired reset and verification tokens;
 * - delivered and failed outbox rows after the retention (pending ones never);
 * - pending sign-ins (a first step that waits for a second) past MFA_TOKEN_TTL.
 * Each table's owner deletes in batches, so no statement holds many locks or a long
 * transaction.
 */
@Injectable()
export class CleanupService {
  private readonly logger = new Logger(CleanupService.name);
  private readonly accessTokenTtl: number;
  private running = false;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly revocationEvents: RevocationEventsRepository,
    private readonly throttler: PostgresThrottlerStorage,
    private readonly signingKeys: SigningKeysRepository,
    private readonly accountTokens: AccountTokensRepository,
    private readonly outbox: OutboxRepository,
    private readonly pendingSignIns: PendingSignIns,
    config: ConfigService<AppConfig, true>,
  ) {
    this.accessTokenTtl = config.get('auth.accessTokenTtl', { infer: true });
  }

  @Interval(CLEANUP_JOB, CLEANUP_EVERY_MS)
  async scheduled(): Promise<void> {
    if (this.running) return; // the previous run is still going
    this.running = true;
    try {
      const report = await this.run();
      this.logger.log(`Cleanup: ${JSON.stringify(report)}`);
    } catch (error) {
      // Not the message: a Prisma error echoes query values.
      this.logger.error({ err: describeError(error) }, 'Cleanup failed');
    } finally {
      this.running = false;
    }
  }

  /** One full cleanup; returns how many rows went from each table. */
  async run(): Promise<CleanupReport> {
    const sessions = await this.sessions.deleteFinished(ENDED_SESSION_RETENTION_DAYS);
    const revocationEvents = await this.revocationEvents.deleteOlderThan(this.accessTokenTtl + REVOCATION_MARGIN_SECONDS);
    const throttleBuckets = await this.throttler.purgeExpired();
    const signingKeys = await this.signingKeys.deleteExpired(this.accessTokenTtl + REVOCATION_MARGIN_SECONDS);
    const accountTokens = await this.accountTokens.deleteExpired();
    const outboxDeliveries = await this.outbox.deleteClosedOlderThan(CLOSED_DELIVERY_RETENTION_DAYS);
    const pendingSignIns = await this.pendingSignIns.deleteExpired();
    return { sessions, revocationEvents, throttleBuckets, signingKeys, accountTokens, outboxDeliveries, pendingSignIns };
  }
}
