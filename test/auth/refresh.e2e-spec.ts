import type { AuditEvent } from '../../src/generated/prisma/client';
import { Injectable, Module } from '@nestjs/common';
import type { Tx } from '../../src/database/tx';
import { OnEvent } from '../../src/events/event-bus';
import { newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('refresh: rotation, reuse detection, concurrent grace, expiry', () => {
  const t = useApp();

  const refresh = (refreshToken: string) => t.http.post('/auth/refresh', { refreshToken });
  /** Moves the last rotation of a session back in time, past REFRESH_REUSE_GRACE (30 s). */
  const pastGrace = (sessionId: string) => t.server.prisma.session.update({ where: { id: sessionId }, data: { rotatedAt: new Date(Date.now() - 60_000) } });

  it('returns a new refresh token and a working access token; only hashes are stored', async () => {
    const user = await newUser(t.http);
    const res = await refresh(user.refreshToken);
    expect(res.status).toBe(200);
    expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.body.refreshToken).not.toBe(user.refreshToken);
    expect(res.body.sessionId).toBe(user.sessionId);
    expect((await t.http.get('/auth/me', { token: res.body.accessToken })).status).toBe(200);

    const session = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(session.refreshTokenHash).toMatch(/^[0-9a-f]{64}$/);
    const stored =
      JSON.stringify(await t.server.prisma.$queryRaw`SELECT * FROM sessions`) +
      JSON.stringify(await t.server.prisma.$queryRaw`SELECT * FROM rotated_refresh_tokens`);
    expect(stored).not.toContain(user.refreshToken);
    expect(stored).not.toContain(res.body.refreshToken);
  });

  it('refuses the old token once the grace window has passed, and burns the session', async () => {
    const user = await newUser(t.http);
    const rotated = await refresh(user.refreshToken);
    await pastGrace(user.sessionId);

    const replay = await refresh(user.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.body.message).toMatch(/already used/);
    // The newest refresh token and every access token of the session are dead too.
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: rotated.body.accessToken })).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);

    const session = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(session.revokedReason).toBe('REUSE_DETECTED');
    const events = await t.server.prisma.auditEvent.findMany({ where: { sessionId: user.sessionId, type: 'token.reuse_detected' } });
    expect(events).toHaveLength(1);
  });

  it('treats a token two rotations old as reuse, even within the grace window', async () => {
    const user = await newUser(t.http);
    const first = await refresh(user.refreshToken);
    const second = await refresh(first.body.refreshToken);
    expect(second.status).toBe(200);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: second.body.accessToken })).status).toBe(401);
  });

  it('gives 20 concurrent refreshes with one token the same new token, which then works once more', async () => {
    const user = await newUser(t.http);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(user.refreshToken)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const tokens = new Set(results.map((r) => r.body.refreshToken));
    expect(tokens.size).toBe(1);
    for (const r of results) expect((await t.http.get('/auth/me', { token: r.body.accessToken })).status).toBe(200);

    const session = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(session.generation).toBe(1);
    const next = await refresh([...tokens][0]);
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).not.toBe([...tokens][0]);
  });

  it('refuses an unknown token, and one of another shape, with 401', async () => {
    expect((await refresh('A'.repeat(43))).status).toBe(401);
    expect((await refresh('not a token')).status).toBe(401);
    expect((await t.http.post('/auth/refresh', {})).status).toBe(401);
  });

  it('refuses refresh of a session past its idle expiry, and past its absolute expiry', async () => {
    const idle = await newUser(t.http);
    await t.server.prisma.session.update({ where: { id: idle.sessionId }, data: { idleExpiresAt: new Date(Date.now() - 1000) } });
    const idleRes = await refresh(idle.refreshToken);
    expect(idleRes.status).toBe(401);
    expect(idleRes.body.message).toBe('Session has expired');

    const absolute = await newUser(t.http);
    await t.server.prisma.session.update({
      where: { id: absolute.sessionId },
      data: { absoluteExpiresAt: new Date(Date.now() - 1000) },
    });
    expect((await refresh(absolute.refreshToken)).status).toBe(401);
  });

  it('slides the idle expiry on refresh but never past the absolute expiry', async () => {
    const user = await newUser(t.http);
    const cap = new Date(Date.now() + 60_000);
    await t.server.prisma.session.update({ where: { id: user.sessionId }, data: { absoluteExpiresAt: cap } });
    const res = await refresh(user.refreshToken);
    expect(res.status).toBe(200);
    const session = await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(session.idleExpiresAt.getTime()).toBe(cap.getTime());

    const other = await newUser(t.http);
    const before = await t.server.prisma.session.findUniqueOrThrow({ where: { id: other.sessionId } });
    await refresh(other.refreshToken);
    const after = await t.server.prisma.session.findUniqueOrThrow({ where: { id: other.sessionId } });
    expect(after.idleExpiresAt.getTime()).toBeGreaterThan(before.idleExpiresAt.getTime());
  });

  it('refuses an access token sent to /auth/refresh and a refresh token sent as a bearer token', async () => {
    const user = await newUser(t.http);
    expect((await refresh(user.accessToken)).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: user.refreshToken })).status).toBe(401);
    expect((await refresh(user.refreshToken)).status).toBe(200);
  });
});

/** Nothing in the server subscribes to token.refreshed (the refresh then stays one statement): this spec's subscriber does. */
const heard: Array<{ event: AuditEvent; generationInTx: number }> = [];
let failNext = false;

@Injectable()
class RefreshListener {
  @OnEvent('audit.recorded', { types: ['token.refreshed'] })
  async heard(tx: Tx, event: AuditEvent): Promise<void> {
    const session = await tx.session.findUniqueOrThrow({ where: { id: event.sessionId! } });
    heard.push({ event, generationInTx: session.generation });
    if (failNext) {
      failNext = false;
      throw new Error('a subscriber failed');
    }
  }
}

@Module({ providers: [RefreshListener] })
class RefreshListenerModule {}

describe("refresh: the token.refreshed event reaches AuditService's subscribers, in the rotation's transaction", () => {
  const t = useApp({}, { extraImports: [RefreshListenerModule] });

  it('hands the subscriber the event the rotation wrote, with the rotation visible in its transaction', async () => {
    const user = await newUser(t.http);
    const res = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(res.status).toBe(200);
    const stored = await t.server.prisma.auditEvent.findMany({ where: { sessionId: user.sessionId, type: 'token.refreshed' } });
    expect(stored).toHaveLength(1);
    expect(heard).toEqual([{ event: stored[0], generationInTx: 1 }]);
    expect(stored[0].data).toEqual({ generation: 1 });
  });

  it('rolls the rotation back with the subscriber: the presented token still works', async () => {
    const user = await newUser(t.http);
    failNext = true;
    expect((await t.http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(500);
    expect(await t.server.prisma.auditEvent.count({ where: { sessionId: user.sessionId, type: 'token.refreshed' } })).toBe(0);
    expect((await t.server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } })).generation).toBe(0);
    expect((await t.http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
  });
});
