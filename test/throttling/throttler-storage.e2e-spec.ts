import { DELETE_BATCH_SIZE } from '../../src/database/batches';
import type { PrismaService } from '../../src/database/prisma.service';
import { bucketKey, PostgresThrottlerStorage } from '../../src/throttling/postgres-throttler.storage';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';

const MINUTE = 60_000;

/** Waits until the database clock (the one the storage uses) is past `at`. */
async function waitUntilPast(prisma: PrismaService, at: Date): Promise<void> {
  for (;;) {
    const [{ past }] = await prisma.$queryRaw<{ past: boolean }[]>`SELECT statement_timestamp() > ${at} AS past`;
    if (past) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('throttling: PostgreSQL throttler storage', () => {
  let db: TestDatabase;
  let server: TestApp;
  let storage: PostgresThrottlerStorage;
  const row = (key: string, name = 'default') => server.prisma.throttleBucket.findUniqueOrThrow({ where: { key: bucketKey(key, name) } });

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startApp(db);
    // A storage of its own on the app's Prisma: the app's instance already counts login hits.
    storage = new PostgresThrottlerStorage(server.prisma);
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('counts hits within a window', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await storage.increment('count', MINUTE, 5, MINUTE, 'default'));
    expect(results.map((r) => r.totalHits)).toEqual([1, 2, 3]);
    for (const r of results) {
      expect(r.isBlocked).toBe(false);
      expect(r.timeToBlockExpire).toBe(0);
      expect(r.timeToExpire).toBeGreaterThan(0);
      expect(r.timeToExpire).toBeLessThanOrEqual(60);
    }
    expect((await row('count')).hits).toBe(3);
  });

  it('blocks the hit that exceeds the limit, and refuses without counting while blocked', async () => {
    const hit = () => storage.increment('block', MINUTE, 2, 30_000, 'default');
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 2, isBlocked: false });
    const third = await hit();
    expect(third).toMatchObject({ totalHits: 3, isBlocked: true });
    expect(third.timeToBlockExpire).toBeGreaterThan(0);
    expect(third.timeToBlockExpire).toBeLessThanOrEqual(30);
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: true });
    const bucket = await row('block');
    expect(bucket.hits).toBe(3);
    expect(bucket.blockedUntil).not.toBeNull();
  });

  it('starts a new window once the old one has passed', async () => {
    const hit = () => storage.increment('window', 1000, 5, 1000, 'default');
    await hit();
    expect((await hit()).totalHits).toBe(2);
    const before = await row('window');
    await waitUntilPast(server.prisma, before.expiresAt);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
    const after = await row('window');
    expect(after.hits).toBe(1);
    expect(after.expiresAt.getTime()).toBeGreaterThan(before.expiresAt.getTime());
  });

  it('starts a new window once a block has been served', async () => {
    const hit = () => storage.increment('served', MINUTE, 1, 1000, 'default');
    await hit();
    expect((await hit()).isBlocked).toBe(true);
    await waitUntilPast(server.prisma, (await row('served')).blockedUntil!);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false, timeToBlockExpire: 0 });
    expect((await row('served')).blockedUntil).toBeNull();
  });

  it('with blockDuration 0, blocks until the window ends', async () => {
    await storage.increment('noblock', MINUTE, 1, 0, 'default');
    const over = await storage.increment('noblock', MINUTE, 1, 0, 'default');
    expect(over.isBlocked).toBe(true);
    const bucket = await row('noblock');
    expect(bucket.blockedUntil).toEqual(bucket.expiresAt);
  });

  it('keeps one counter per throttler name', async () => {
    await storage.increment('named', MINUTE, 5, MINUTE, 'short');
    await storage.increment('named', MINUTE, 5, MINUTE, 'short');
    expect((await storage.increment('named', MINUTE, 5, MINUTE, 'long')).totalHits).toBe(1);
    expect((await row('named', 'short')).hits).toBe(2);
  });

  it('never loses a hit under 50 concurrent increments of one key', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => storage.increment('concurrent', MINUTE, 1000, MINUTE, 'default')));
    // Each hit saw a distinct count: the increments were serialised on the row.
    expect(results.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await row('concurrent')).hits).toBe(50);
  });

  it('purgeExpired deletes, in batches, the rows whose window and block are over, and keeps the others', async () => {
    const prisma = server.prisma;
    await prisma.$executeRaw`DELETE FROM throttle_buckets`;
    const expired = DELETE_BATCH_SIZE * 2 + 5; // more than one batch
    await prisma.$executeRaw`
      INSERT INTO throttle_buckets (key, hits, expires_at, blocked_until)
      SELECT 'old:' || i, 1, now() - interval '1 minute', NULL FROM generate_series(1, ${expired}::int) AS i`;
    await prisma.$executeRaw`
      INSERT INTO throttle_buckets (key, hits, expires_at, blocked_until) VALUES
        ('block-served', 9, now() - interval '2 minutes', now() - interval '1 minute'),
        ('live-window',  1, now() + interval '1 minute',  NULL),
        ('live-block',   9, now() - interval '1 minute',  now() + interval '1 minute')`;
    await storage.increment('live-increment', MINUTE, 5, MINUTE, 'default');

    expect(await storage.purgeExpired()).toBe(expired + 1);
    const left = await prisma.throttleBucket.findMany({ select: { key: true }, orderBy: { key: 'asc' } });
    expect(left.map((r) => r.key)).toEqual([bucketKey('live-increment', 'default'), 'live-block', 'live-window'].sort());
    expect(await storage.purgeExpired()).toBe(0);
  });
});

describeOnPostgres('throttling: two instances sharing one PostgreSQL database', () => {
  let db: TestDatabase;
  let first: TestApp;
  let second: TestApp;
  let a: PostgresThrottlerStorage;
  let b: PostgresThrottlerStorage;

  beforeAll(async () => {
    db = await createTestDatabase();
    [first, second] = await Promise.all([startApp(db), startApp(db)]);
    a = new PostgresThrottlerStorage(first.prisma);
    b = new PostgresThrottlerStorage(second.prisma);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await db?.drop();
  });

  it('share one count: concurrent hits on both instances are all counted', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).increment('shared', MINUTE, 1000, MINUTE, 'default')));
    expect(results.map((r) => r.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const bucket = await second.prisma.throttleBucket.findUniqueOrThrow({
      where: { key: bucketKey('shared', 'default') },
    });
    expect(bucket.hits).toBe(40);
  });

  it('share a block: a key blocked through one instance is blocked on the other', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await a.increment('shared-block', MINUTE, 3, MINUTE, 'default')).isBlocked).toBe(false);
    }
    const blocked = await b.increment('shared-block', MINUTE, 3, MINUTE, 'default');
    expect(blocked).toMatchObject({ totalHits: 4, isBlocked: true });
    expect(blocked.timeToBlockExpire).toBeGreaterThan(0);
    expect((await a.increment('shared-block', MINUTE, 3, MINUTE, 'default')).isBlocked).toBe(true);
  });
});
