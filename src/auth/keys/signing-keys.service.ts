import { ConflictException, Injectable, Logger, NotFoundException, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import type { ChannelNotice } from '../../events/channel';
import { EventBus, OnEvent } from '../../events/event-bus';
import { KeyDecryptionError, KeyEncryption } from './key-encryption';
import { KEY_CLOCK_SKEW_MS, KeyRing, type RingKey } from './key-ring';
import { KEYS_CHANGED } from './keys-changed';
import { addSigningKey, type AddedKey } from './key-rotation';
import { statusOf, trustRow, type KeyStatus, type PublishedJwk, type SigningAlgorithm, type SigningKeyRow } from './signing-key';
import { SigningKeysRepository } from './signing-keys.repository';

export const KEY_NOT_FOUND = 'Signing key not found';
export const LAST_KEY = 'No other signing key can take over: rotate first (POST /admin/keys/rotate)';

/** A key as GET /admin/keys shows it. */
export interface KeyView {
  kid: string;
  alg: SigningAlgorithm;
  status: KeyStatus;
  createdAt: Date;
  activatesAt: Date;
  retiresAt: Date | null;
}

/** Who changes the keys: an admin through the API. */
export interface KeyActor {
  actorId: string;
  client: ClientMeta;
}

/**
 * The signing keys of access tokens, as every instance shares them (table
 * `signing_keys`) and holds them in memory (`KeyRing`): which key signs, which verify,
 * what the JWKS publishes, and the admin's changes (rotate, revoke).
 *
 * Every instance learns of a change at once, never by a query per unknown kid: the
 * change is announced on the revocation channel (KEYS_CHANGED, or a KEY_REVOKED revocation
 * event), which RevocationService hears and passes on through the event bus
 * (`channel.notice`, `key-revocation.heard`, `channel.resynced` after a reconnect), and each
 * instance reloads the table; a revoked key is dropped from memory on the notice itself,
 * before the reload, and its tokens are refused by the revocation state as well. So a
 * token whose kid is not in memory is refused without touching the database.
 */
@Injectable()
export class SigningKeys implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SigningKeys.name);
  private readonly tokenTtlMs: number;
  private readonly algorithm: SigningAlgorithm;
  private readonly leadSeconds: number;
  /** SIGNING_KEY_ROTATION in ms; 0: by hand only. */
  private readonly rotationMs: number;
  private rotationTimer?: NodeJS.Timeout;
  private rotating = false;
  private ring: KeyRing;
  private ready = false;
  /** Reloads started and the latest applied: an older load never replaces a newer one. */
  private loadsStarted = 0;
  private loadApplied = 0;
  /** Keys heard revoked: never back in memory, whatever a reload that started earlier read. */
  private readonly revoked = new Set<string>();
  /** Keys that failed the trust check, and why: reported once each, from the end of a successful start on. */
  private readonly untrusted = new Map<string, Error>();

  constructor(
    private readonly keys: SigningKeysRepository,
    private readonly audit: AuditService,
    private readonly events: EventBus,
    private readonly encryption: KeyEncryption,
    config: ConfigService<AppConfig, true>,
  ) {
    const auth = config.get('auth', { infer: true });
    this.tokenTtlMs = auth.accessTokenTtl * 1000;
    this.algorithm = auth.algorithm;
    this.leadSeconds = auth.signingKeyLead;
    this.rotationMs = auth.signingKeyRotation * 1000;
    this.ring = new KeyRing([], this.tokenTtlMs);
  }

  /** At start: a first key if none can sign (under the keys lock), then the ring; no usable key stops the start. */
  async onModuleInit(): Promise<void> {
    const added = await addSigningKey(this.keys, this.audit, this.encryption, {
      algorithm: this.algorithm,
      leadSeconds: this.leadSeconds,
      onlyIfNone: true,
    });
    if (added) this.logger.log(`Created the first signing key ${added.kid} (${this.algorithm})`);
    await this.reload();
    if (!this.ring.signingKey(Date.now())) throw new Error(this.cannotSign());
    this.ready = true;
    for (const [kid, error] of this.untrusted) this.reportUntrusted(kid, error);
    if (this.rotationMs > 0) {
      // Looked at often enough that a key is late by at most a tenth of the period (a minute at most).
      const every = Math.min(this.rotationMs / 10, 60_000);
      this.rotationTimer = setInterval(() => void this.rotateIfDue(), every).unref();
    }
  }

  /**
   * Why the start stops, in the one line main.ts prints (the keys that failed are not
   * listed before it: this says it for all of them). Keys that do not open are keys sealed
   * under another AUTH_SECRET, the secret of the start that created them; a secret
   * generated anew at each start (`AUTH_SECRET=$(openssl rand …) npm start`) makes every
   * restart such a start. Never a secret itself.
   */
  private cannotSign(): string {
    if (![...this.untrusted.values()].some((error) => error instanceof KeyDecryptionError)) {
      return 'No signing key in the database can be opened with AUTH_SECRET (or AUTH_SECRET_PREVIOUS); a key made under another secret is never trusted.';
    }
    return this.encryption.hasPrevious
      ? 'The signing keys in this database were sealed under neither AUTH_SECRET nor AUTH_SECRET_PREVIOUS: set AUTH_SECRET to the secret this database was created with (or, to change the secret, AUTH_SECRET_PREVIOUS to it).'
      : 'The signing keys in this database were sealed under another AUTH_SECRET: start with the AUTH_SECRET this database was created with ' +
          '(keep it, e.g. in .env: a secret generated anew at each start cannot open them), or, to change the secret, ' +
          'set the new one as AUTH_SECRET and the old one as AUTH_SECRET_PREVIOUS.';
  }

  private reportUntrusted(kid: string, error: Error): void {
    this.logger.error(`Signing key ${kid} is not trusted here, its tokens are refused: ${error.message}`);
  }

  onApplicationShutdown(): void {
    clearInterval(this.rotationTimer);
  }

  /**
   * SIGNING_KEY_ROTATION: every instance looks; memory says when the newest key started
   * signing, and only when a rotation looks due does one go to the database, where the
   * keys lock lets one instance add the key (the others find it there and add none).
   */
  private async rotateIfDue(): Promise<void> {
    const newest = Math.max(...this.ring.keys.map((key) => key.activatesAt));
    if (this.rotating || newest + this.rotationMs - this.leadSeconds * 1000 > Date.now()) return;
    this.rotating = true;
    try {
      const added = await addSigningKey(this.keys, this.audit, this.encryption, {
        algorithm: this.algorithm,
        leadSeconds: this.leadSeconds,
        dueEveryMs: this.rotationMs,
        via: 'schedule',
      });
      if (added) this.logger.log(`Scheduled rotation: signing key ${added.kid} published, signs from ${added.activatesAt.toISOString()}`);
      await this.reload();
    } catch (error) {
      // The database may be away: the next look tries again; the current key goes on signing.
      this.logger.warn(`Scheduled key rotation failed, will retry: ${(error as Error).message}`);
    } finally {
      this.rotating = false;
    }
  }

  /** The key that signs now. */
  signingKey(): RingKey {
    const key = this.ring.signingKey(Date.now());
    if (!key) throw new Error('No signing key is available');
    return key;
  }

  /** The key `kid` names, if it may verify a token now; undefined for unknown, revoked and expired keys. */
  verificationKey(kid: string): RingKey | undefined {
    return this.ring.verificationKey(kid, Date.now());
  }

  /** GET /.well-known/jwks.json. */
  jwks(): { keys: PublishedJwk[] } {
    return { keys: this.ring.published(Date.now()) };
  }

  /** SIGNING_KEY_LEAD in seconds (the JWKS's cache lifetime is bounded by it). */
  get lead(): number {
    return this.leadSeconds;
  }

  /** GET /admin/keys: every key whose tokens can still be valid, and the revoked ones, newest activation first. */
  async list(): Promise<KeyView[]> {
    const now = Date.now();
    const rows = await this.keys.all();
    return rows
      .filter((row) => row.revokedAt || !this.expired(row, now))
      .reverse()
      .map((row) => ({
        kid: row.kid,
        alg: row.algorithm,
        status: statusOf(row, now),
        createdAt: row.createdAt,
        activatesAt: row.activatesAt,
        retiresAt: row.retiresAt,
      }));
  }

  /** POST /admin/keys/rotate: published now, signing after SIGNING_KEY_LEAD (see addSigningKey). */
  async rotate(actor: KeyActor): Promise<AddedKey> {
    const added = await addSigningKey(this.keys, this.audit, this.encryption, {
      algorithm: this.algorithm,
      leadSeconds: this.leadSeconds,
      ...actor,
    });
    await this.reload();
    return added!;
  }

  /**
   * DELETE /admin/keys/:kid: a compromised key. It signs nothing more, and every token it
   * signed is refused at once on every instance (a KEY_REVOKED revocation event, which
   * RevocationService declares in the same transaction on `signing-key.revoked`). When it was the key signing now, the next key is promoted to sign
   * at once, so clients that refresh get tokens that work. Refused (409) when no other
   * key could sign. Revoking a revoked key changes nothing.
   */
  async revoke(kid: string, actor: KeyActor): Promise<void> {
    await this.events.transaction(async (tx) => {
      await this.keys.lock(tx);
      const now = Date.now();
      const rows = await this.keys.allIn(tx);
      const key = rows.find((row) => row.kid === kid);
      if (!key) throw new NotFoundException(KEY_NOT_FOUND);
      if (key.revokedAt) return;
      const others = rows.filter((row) => row.kid !== kid && ['next', 'active'].includes(statusOf(row, now)));
      if (others.length === 0) throw new ConflictException(LAST_KEY);
      const at = new Date(now);
      await this.keys.revoke(tx, kid, at);
      let promoted: string | undefined;
      if (statusOf(key, now) === 'active' && !others.some((row) => statusOf(row, now) === 'active')) {
        promoted = others[0].kid; // the next key to activate (rows are in activation order)
        await this.keys.promote(tx, promoted, at);
      }
      await this.keys.reschedule(tx);
      await this.events.emitInTransaction(tx, 'signing-key.revoked', { kid });
      const data = { kid, ...(promoted && { promoted }) };
      await this.audit.record(tx, { type: 'key.revoked', actorId: actor.actorId, client: actor.client, data });
    });
    await this.reload();
  }

  /** Reads the table again and replaces the ring (at start, on every key notice, after a change made here). */
  async reload(): Promise<void> {
    const ticket = ++this.loadsStarted;
    const rows = await this.keys.all();
    if (ticket <= this.loadApplied) return;
    const now = Date.now();
    const keys: RingKey[] = [];
    const toReseal: Array<{ row: SigningKeyRow; key: RingKey }> = [];
    for (const row of rows) {
      if (row.revokedAt || this.revoked.has(row.kid) || this.expired(row, now)) continue;
      const dates = { activatesAt: row.activatesAt.getTime(), retiresAt: row.retiresAt?.getTime() };
      // Trusted once, trusted for this process's life: an instance still on the old
      // secret keeps the keys it knows while another re-seals them under the new one.
      const known = this.ring.get(row.kid);
      if (known) {
        keys.push({ ...known, ...dates });
        continue;
      }
      try {
        const trusted = trustRow(row, this.encryption);
        const { sealedWithPrevious, ...material } = trusted;
        const key: RingKey = { ...material, ...dates };
        if (sealedWithPrevious) toReseal.push({ row, key });
        keys.push(key);
      } catch (error) {
        if (!this.untrusted.has(row.kid)) {
          this.untrusted.set(row.kid, error as Error);
          // Before the start is decided, onModuleInit reports it (or says why it cannot start).
          if (this.ready) this.reportUntrusted(row.kid, error as Error);
        }
      }
    }
    this.loadApplied = ticket;
    this.replace(new KeyRing(keys, this.tokenTtlMs));
    for (const { row, key } of toReseal) await this.reseal(row, key);
  }

  /** AUTH_SECRET_PREVIOUS opened it: seal it under AUTH_SECRET, unless another instance did first. */
  private async reseal(row: SigningKeyRow, key: RingKey): Promise<void> {
    const der = key.privateKey.export({ type: 'pkcs8', format: 'der' });
    await this.keys.reseal(row.kid, row.privateKeyEncrypted, this.encryption.seal(der, row.kid));
    this.logger.log(`Signing key ${row.kid} re-encrypted under the current AUTH_SECRET`);
  }

  /** A key revoked here or elsewhere: out of memory at once, whatever a reload under way read; then the table again. */
  @OnEvent('key-revocation.heard')
  keyRevoked({ kid }: { kid: string }): void {
    this.revoked.add(kid);
    if (this.ring.get(kid)) this.replace(this.ring.without(kid));
    this.reloadHeard();
  }

  /** Another instance added or promoted a key. */
  @OnEvent('channel.notice')
  noticeHeard(notice: ChannelNotice): void {
    if (notice.kind === KEYS_CHANGED) this.reloadHeard();
  }

  /** The channel was (re)connected: a notice may have been missed meanwhile. */
  @OnEvent('channel.resynced')
  resynced(): void {
    this.reloadHeard();
  }

  private reloadHeard(): void {
    // Before the first load, that load reads what the notice announced.
    if (!this.ready) return;
    this.reload().catch((error: Error) => this.logger.error(`Reloading the signing keys failed: ${error.message}`));
  }

  private replace(ring: KeyRing): void {
    this.ring = ring;
    this.events.emit('signing-keys.replaced', {});
  }

  /** Retired long enough ago that every token it signed has expired. */
  private expired(row: SigningKeyRow, now: number): boolean {
    return row.retiresAt !== null && now >= row.retiresAt.getTime() + this.tokenTtlMs + KEY_CLOCK_SKEW_MS;
  }
}
