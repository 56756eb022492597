import { randomBytes } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DELETE_BATCH_SIZE } from '../../src/database/batches';
import { CLEANUP_EVERY_MS, CLEANUP_JOB, CleanupService } from '../../src/maintenance/cleanup.service';
import { newSession, newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('the cleanup job', () => {
  const t = useApp();

  const ago = (ms: number) => new Date(Date.now() - ms);
  const MINUTE = 60_000;
  const DAY = 24 * 60 * MINUTE;
  const runCleanup = () => t.server.app.get(CleanupService).run();

  it('is scheduled every 10 minutes', () => {
    expect(t.server.app.get(SchedulerRegistry).getInterval(CLEANUP_JOB)).toBeDefined();
    expect(CLEANUP_EVERY_MS).toBe(10 * MINUTE);
  });

  it('removes expired sessions (with their rotated tokens), long-ended ones, old revocation events and spent throttle buckets; keeps the live ones', async () => {
    const user = await newUser(t.http);
    const live = await newSession(t.http, user);
    const ids = { live: live.sessionId, registered: user.sessionId } as Record<string, string>;
    for (const name of ['absolute', 'endedLongAgo', 'endedRecently']) ids[name] = (await newSession(t.http, user)).sessionId;
    const rotated = await t.http.post('/auth/refresh', { refreshToken: live.refreshToken }); // a rotated token of a live session
    const idle = await newSession(t.http, user);
    await t.http.post('/auth/refresh', { refreshToken: idle.refreshToken }); // a rotated token of an expiring session
    ids.idle = idle.sessionId;

    const { session, revocationEvent, throttleBucket, rotatedRefreshToken } = t.server.prisma;
    await session.update({ where: { id: ids.idle }, data: { idleExpiresAt: ago(1000) } });
    await session.update({ where: { id: ids.absolute }, data: { absoluteExpiresAt: ago(1000) } });
    await session.update({ where: { id: ids.endedLongAgo }, data: { revokedAt: ago(31 * DAY), revokedReason: 'LOGOUT' } });
    await session.update({ where: { id: ids.endedRecently }, data: { revokedAt: ago(29 * DAY), revokedReason: 'LOGOUT' } });
    await revocationEvent.deleteMany();
    await revocationEvent.create({ data: { kind: 'SESSION_ENDED', userId: user.id, sessionId: ids.endedLongAgo, createdAt: ago(17 * MINUTE) } });
    await revocationEvent.create({ data: { kind: 'SESSION_ENDED', userId: user.id, sessionId: ids.endedRecently, createdAt: ago(15 * MINUTE) } });
    await throttleBucket.deleteMany();
    await throttleBucket.create({ data: { key: 'spent', hits: 3, expiresAt: ago(1000) } });
    await throttleBucket.create({ data: { key: 'blocked', hits: 11, expiresAt: ago(1000), blockedUntil: new Date(Date.now() + MINUTE) } });
    await throttleBucket.create({ data: { key: 'open', hits: 1, expiresAt: new Date(Date.now() + MINUTE) } });

    expect(await runCleanup()).toEqual({
      sessions: 3,
      revocationEvents: 1,
      throttleBuckets: 1,
      signingKeys: 0,
      accountTokens: 0,
      outboxDeliveries: 0,
      pendingSignIns: 0,
    });

    const left = await session.findMany({ where: { userId: user.id }, select: { id: true } });
    expect(left.map((s) => s.id).sort()).toEqual([ids.live, ids.registered, ids.endedRecently].sort());
    expect(await rotatedRefreshToken.count({ where: { sessionId: ids.idle } })).toBe(0);
    expect(await rotatedRefreshToken.count({ where: { sessionId: ids.live } })).toBe(1);
    expect((await revocationEvent.findMany()).map((e) => e.sessionId)).toEqual([ids.endedRecently]);
    expect((await throttleBucket.findMany({ orderBy: { key: 'asc' } })).map((b) => b.key)).toEqual(['blocked', 'open']);

    // The live sessions still work, and a second run finds nothing more.
    expect((await t.http.get('/auth/me', { token: rotated.body.accessToken })).status).toBe(200);
    expect((await t.http.post('/auth/refresh', { refreshToken: rotated.body.refreshToken })).status).toBe(200);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect(await runCleanup()).toEqual({
      sessions: 0,
      revocationEvents: 0,
      throttleBuckets: 0,
      signingKeys: 0,
      accountTokens: 0,
      outboxDeliveries: 0,
      pendingSignIns: 0,
    });
  });

  it('deletes in batches until none is left', async () => {
    const user = await newUser(t.http);
    const count = DELETE_BATCH_SIZE * 2 + 7;
    const expired = ago(1000);
    await t.server.prisma.session.createMany({
      data: Array.from({ length: count }, () => ({
        userId: user.id,
        refreshTokenHash: randomBytes(32).toString('hex'),
        idleExpiresAt: expired,
        absoluteExpiresAt: expired,
        authTime: expired,
        amr: ['pwd'],
        acr: 'aal1',
      })),
    });
    expect((await runCleanup()).sessions).toBe(count);
    expect(await t.server.prisma.session.count({ where: { userId: user.id } })).toBe(1);
  });

  it('removes expired reset and verification tokens, and closed outbox rows after 30 days; never a pending one', async () => {
    const user = await newUser(t.http);
    const { accountToken, outboxDelivery } = t.server.prisma;
    await accountToken.create({ data: { tokenHash: 'a'.repeat(64), purpose: 'PASSWORD_RESET', userId: user.id, expiresAt: ago(1000) } });
    await accountToken.create({ data: { tokenHash: 'b'.repeat(64), purpose: 'EMAIL_VERIFICATION', userId: user.id, expiresAt: new Date(Date.now() + DAY) } });
    const row = (target: string, status: 'pending' | 'delivered' | 'failed', createdAt: Date) =>
      outboxDelivery.create({
        data: {
          kind: 'mail',
          target,
          eventType: 'password-reset',
          payload: {},
          status,
          createdAt,
          nextAttemptAt: status === 'pending' ? new Date(Date.now() + DAY) : null,
        },
      });
    await row('old-delivered@example.com', 'delivered', ago(31 * DAY));
    await row('old-failed@example.com', 'failed', ago(31 * DAY));
    await row('old-pending@example.com', 'pending', ago(31 * DAY));
    await row('recent@example.com', 'delivered', ago(29 * DAY));

    expect(await runCleanup()).toMatchObject({ accountTokens: 1, outboxDeliveries: 2 });
    expect((await accountToken.findMany({ where: { userId: user.id } })).map((t) => t.purpose)).toEqual(['EMAIL_VERIFICATION']);
    const left = await outboxDelivery.findMany({
      where: { target: { in: ['old-pending@example.com', 'recent@example.com', 'old-delivered@example.com', 'old-failed@example.com'] } },
    });
    expect(left.map((d) => d.target).sort()).toEqual(['old-pending@example.com', 'recent@example.com']);
    await outboxDelivery.deleteMany({ where: { target: 'old-pending@example.com' } });
  });

  it('removes pending sign-ins past their expiry, never a live one', async () => {
    const user = await newUser(t.http);
    const { pendingSignIn } = t.server.prisma;
    const pending = (tokenHash: string, expiresAt: Date) =>
      pendingSignIn.create({ data: { tokenHash, userId: user.id, amr: ['pwd'], acr: 'aal1', credential: 'stamp', methods: ['totp'], expiresAt } });
    await pending('c'.repeat(64), ago(1000));
    await pending('d'.repeat(64), ago(DAY));
    await pending('e'.repeat(64), new Date(Date.now() + MINUTE));

    expect(await runCleanup()).toMatchObject({ pendingSignIns: 2 });
    expect((await pendingSignIn.findMany({ where: { userId: user.id } })).map((p) => p.tokenHash)).toEqual(['e'.repeat(64)]);
    expect(await runCleanup()).toMatchObject({ pendingSignIns: 0 });
  });
});
