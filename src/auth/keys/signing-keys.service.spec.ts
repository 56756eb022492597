import type { ConfigService } from '@nestjs/config';
import type { AuditService } from '../../audit/audit.service';
import type { AppConfig } from '../../config/configuration';
import type { EventBus } from '../../events/event-bus';
import { secretKey } from '../secret/server-secret';
import { KeyEncryption } from './key-encryption';
import { newSigningKey, type SigningKeyRow } from './signing-key';
import { SigningKeys } from './signing-keys.service';
import type { SigningKeysRepository } from './signing-keys.repository';

/**
 * SigningKeys.reload reads the table, then replaces the ring: two reloads (a notice heard
 * while one is under way, a change made here) may be in flight at once, and their reads
 * may come back in any order. What reaches memory must never go back in time:
 * - a read that started before another one finished is dropped (the ticket guard);
 * - a key heard revoked stays out of memory, even when a read that started before the
 *   revocation comes back with it still in the table (the `revoked` guard).
 * The table is a fake whose reads resolve when the spec says.
 */
const encryption = new KeyEncryption({ current: secretKey('a-server-secret-for-the-unit-spec-only!!') });
const HOUR = 3_600_000;

async function row(activatesAt: number): Promise<SigningKeyRow> {
  const key = await newSigningKey('ES256', encryption);
  return { ...key, createdAt: new Date(activatesAt), activatesAt: new Date(activatesAt), retiresAt: null, revokedAt: null };
}

/** The table: every `all()` (or `allIn(tx)`, under the keys lock) is a read the spec answers (`answer`), in any order. */
function fakeTable() {
  const reads: Array<(rows: SigningKeyRow[]) => void> = [];
  const repository = {
    all: () => new Promise<SigningKeyRow[]>((resolve) => reads.push(resolve)),
    allIn: () => new Promise<SigningKeyRow[]>((resolve) => reads.push(resolve)),
    reseal: () => Promise.resolve(),
  };
  return { repository: repository as unknown as SigningKeysRepository, reads };
}

const config = {
  get: (key: string) => (key === 'auth' ? { accessTokenTtl: 900, algorithm: 'ES256', signingKeyLead: 0, signingKeyRotation: 0 } : undefined),
} as unknown as ConfigService<AppConfig, true>;

describe('SigningKeys.reload: concurrent reads never take memory back in time', () => {
  let table: ReturnType<typeof fakeTable>;
  let keys: SigningKeys;
  let replaced: number;
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const nextRead = async () => {
    while (table.reads.length === 0) await settle();
    return table.reads.shift()!;
  };

  beforeEach(() => {
    table = fakeTable();
    replaced = 0;
    const bus = { emit: (name: string) => name === 'signing-keys.replaced' && replaced++ } as unknown as EventBus;
    keys = new SigningKeys(table.repository, {} as AuditService, bus, encryption, config);
  });

  it('drops a read that comes back after a later one was applied', async () => {
    const old = await row(Date.now() - HOUR);
    const added = await row(Date.now() - 1000);
    const first = keys.reload();
    const second = keys.reload();
    expect(table.reads).toHaveLength(2);
    // The later read (it sees the key added since) comes back first…
    table.reads[1]([old, added]);
    await second;
    expect(keys.verificationKey(added.kid)).toBeDefined();
    expect(replaced).toBe(1);
    // …then the earlier one, from before the key was added: memory keeps the later view.
    table.reads[0]([old]);
    await first;
    expect(keys.verificationKey(added.kid)).toBeDefined();
    expect(keys.signingKey().kid).toBe(added.kid);
    expect(replaced).toBe(1);
  });

  it('applies reads that come back in the order they started', async () => {
    const old = await row(Date.now() - HOUR);
    const added = await row(Date.now() - 1000);
    const first = keys.reload();
    const second = keys.reload();
    table.reads[0]([old]);
    await first;
    expect(keys.verificationKey(added.kid)).toBeUndefined();
    table.reads[1]([old, added]);
    await second;
    expect(keys.verificationKey(added.kid)).toBeDefined();
    expect(replaced).toBe(2);
  });

  it('keeps a key heard revoked out of memory, though a read that started before comes back with it', async () => {
    const compromised = await row(Date.now() - HOUR);
    const next = await row(Date.now() - 1000);
    const loaded = keys.reload();
    table.reads[0]([compromised, next]);
    await loaded;
    expect(keys.verificationKey(compromised.kid)).toBeDefined();

    // A reload starts (a notice), reads the table before the revocation commits…
    const stale = keys.reload();
    // …and the revocation is heard while that read is on its way.
    keys.keyRevoked({ kid: compromised.kid });
    expect(keys.verificationKey(compromised.kid)).toBeUndefined();
    table.reads[1]([compromised, next]);
    await stale;
    expect(keys.verificationKey(compromised.kid)).toBeUndefined();
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual([next.kid]);
  });

  it('reloads on what the channel tells once started, and not before (the first load reads it)', async () => {
    const only = await row(Date.now() - HOUR);
    keys.resynced();
    keys.noticeHeard({ kind: 'KEYS_CHANGED' });
    expect(table.reads).toHaveLength(0);

    const transactionTable = {
      ...table.repository,
      transaction: (work: (tx: unknown) => Promise<unknown>) => work({}),
    } as unknown as SigningKeysRepository;
    const started = new SigningKeys(transactionTable, {} as AuditService, { emit: () => undefined } as unknown as EventBus, encryption, config);
    const init = started.onModuleInit();
    // addSigningKey reads under the keys lock (a key can sign: none is added), then the first load.
    (await nextRead())([only]);
    (await nextRead())([only]);
    await init;
    started.noticeHeard({ kind: 'KEYS_CHANGED' });
    started.resynced();
    expect(table.reads).toHaveLength(2);
    started.onApplicationShutdown();
  });
});
