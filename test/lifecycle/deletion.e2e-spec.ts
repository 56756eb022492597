import { LAST_ADMIN } from '../../src/auth/lifecycle/account-deletion.service';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { useMailCatcher } from '../support/mail-catcher';
import { useApp, type AppUnderTest } from '../support/test-app';
import { waitFor } from '../support/wait';

/** The session's last authentication an hour back, then a refresh: a token that is not recent. */
async function staleToken(t: AppUnderTest, user: TestUser): Promise<string> {
  await t.server.prisma.session.update({ where: { id: user.sessionId }, data: { authTime: new Date(Date.now() - 3_600_000) } });
  const res = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
  expect(res.status).toBe(200);
  return res.body.accessToken;
}

describe('Deletion: DELETE /auth/me and DELETE /admin/users/:id (API.md, "Account lifecycle")', () => {
  // A first attempt at once, then the next an hour later: a mail that met SMTP down waits, pending.
  const env: Record<string, string> = { ...ADMIN_ENV, RATE_LIMIT_MAIL: '0', OUTBOX_RETRY_SCHEDULE: '0,1h', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);
  let admin: TestUser;

  beforeAll(async () => {
    admin = await newAdmin(t.http);
    const hook = await t.http.post('/admin/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['user.deleted'] }, { token: admin.accessToken });
    expect(hook.status).toBe(201);
  });

  const rowsOf = async (userId: string) => {
    const p = t.server.prisma;
    return {
      users: await p.user.count({ where: { id: userId } }),
      sessions: await p.session.count({ where: { userId } }),
      accountTokens: await p.accountToken.count({ where: { userId } }),
      recoveryCodes: await p.recoveryCode.count({ where: { userId } }),
      totpFactors: await p.totpFactor.count({ where: { userId } }),
      pendingSignIns: await p.pendingSignIn.count({ where: { userId } }),
    };
  };

  it('DELETE /auth/me: 204; the account and everything of it are gone at once; the audit keeps the id, not the address; a webhook is queued', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    // A failed login names the address in the audit: the deletion removes it from there.
    expect((await t.http.post('/auth/login', { email: user.email, password: 'not the password' })).status).toBe(401);
    expect(await rowsOf(user.id)).toMatchObject({ users: 1, sessions: 2, accountTokens: 1 });

    const res = await t.http.delete('/auth/me', { token: user.accessToken });
    expect(res.status).toBe(204);
    // Every token of the account is refused from this response on: access tokens of every session, refresh tokens, the password.
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: other.accessToken })).status).toBe(401);
    expect((await t.http.post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(401);
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).status).toBe(401);
    expect(await rowsOf(user.id)).toEqual({ users: 0, sessions: 0, accountTokens: 0, recoveryCodes: 0, totpFactors: 0, pendingSignIns: 0 });

    const events = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id }, orderBy: { id: 'asc' } });
    const deleted = events.find((e) => e.type === 'user.deleted');
    expect(deleted).toMatchObject({ userId: user.id, actorId: user.id, sessionId: user.sessionId, data: { by: 'self', sessionsEnded: 2 } });
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain(user.email);
    expect(events.find((e) => e.type === 'login.failed')).toMatchObject({ data: { reason: expect.any(String) } });
    const hooks = await t.server.prisma.outboxDelivery.findMany({ where: { kind: 'webhook', eventType: 'user.deleted' } });
    const bodies = hooks.map((h) => JSON.parse((h.payload as { body: string }).body) as { type: string; data: { userId: string } });
    const hook = bodies.find((body) => body.data.userId === user.id);
    expect(hook).toMatchObject({ type: 'user.deleted', data: { type: 'user.deleted', userId: user.id, data: { by: 'self' } } });
    expect(JSON.stringify(hook)).not.toContain(user.email);
    // The address is free again: it can be registered anew, as a new account.
    const again = await newUser(t.http, { email: user.email });
    expect(again.id).not.toBe(user.id);
  });

  it('every table that references users goes with the account (CASCADE), or forgets it (SET NULL): nothing can block a deletion', async () => {
    const references = await t.server.prisma.$queryRaw<Array<{ referencing: string; on_delete: string }>>`
      SELECT conrelid::regclass::text AS referencing, confdeltype::text AS on_delete
      FROM pg_constraint WHERE contype = 'f' AND confrelid = 'users'::regclass ORDER BY 1`;
    // The tables of today at least (passkeys and linked identities join them with CASCADE).
    expect(references.map((r) => r.referencing)).toEqual(
      expect.arrayContaining(['account_tokens', 'invitations', 'pending_sign_ins', 'recovery_codes', 'sessions', 'totp_factors']),
    );
    expect(references.filter((r) => r.on_delete !== 'c' && !(r.referencing === 'invitations' && r.on_delete === 'n'))).toEqual([]);
  });

  it('needs a recent authentication', async () => {
    const user = await newUser(t.http);
    const res = await t.http.delete('/auth/me', { token: await staleToken(t, user) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_user_authentication');
    expect((await rowsOf(user.id)).users).toBe(1);
    expect((await t.http.delete('/auth/me')).status).toBe(401);
  });

  it('mails queued for the account and not sent yet are never sent after the deletion', async () => {
    const doomed = await newUser(t.http);
    const kept = await newUser(t.http);
    await smtp.nth(doomed.email, 'verify-email');
    await smtp.nth(kept.email, 'verify-email');
    await smtp.stop();
    const pendingReset = (email: string) => t.server.prisma.outboxDelivery.findFirst({ where: { target: email, eventType: 'password-reset' } });
    try {
      for (const user of [doomed, kept]) expect((await t.http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
      await waitFor('both resets to meet SMTP down', async () =>
        (await Promise.all([pendingReset(doomed.email), pendingReset(kept.email)])).every((row) => row?.status === 'pending' && row.attempts >= 1),
      );
      expect((await t.http.delete(`/admin/users/${doomed.id}`, { token: admin.accessToken })).status).toBe(204);
    } finally {
      await smtp.start();
    }
    expect(await pendingReset(doomed.email)).toMatchObject({
      status: 'failed',
      lastError: 'Not sent: the account was deleted',
      payload: null,
      nextAttemptAt: null,
    });
    // Both due now: the kept one goes out; the cancelled one is no longer pending, so no worker takes it.
    await t.server.prisma.outboxDelivery.updateMany({ where: { status: 'pending', kind: 'mail' }, data: { nextAttemptAt: new Date() } });
    await t.server.prisma.$executeRaw`SELECT pg_notify('auth_outbox', '')`;
    await smtp.nth(kept.email, 'reset-password');
    await waitFor('the kept delivery recorded', async () => (await pendingReset(kept.email))?.status === 'delivered');
    expect(smtp.to(doomed.email, 'reset-password')).toEqual([]);
    expect(await pendingReset(doomed.email)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('DELETE /admin/users/:id: 204 as DELETE /auth/me (second factors and pending sign-ins too), audited with the admin as actor; 404 for an unknown or malformed id', async () => {
    const user = await newUser(t.http);
    const secret = new Uint8Array(32);
    await t.server.prisma.totpFactor.create({ data: { userId: user.id, secretSealed: secret, confirmedAt: new Date() } });
    await t.server.prisma.recoveryCode.create({ data: { codeHash: `spec-${user.id}`, userId: user.id } });
    await t.server.prisma.pendingSignIn.create({
      data: {
        tokenHash: `spec-${user.id}`,
        userId: user.id,
        amr: ['pwd'],
        acr: 'aal1',
        credential: 'x',
        methods: ['totp'],
        expiresAt: new Date(Date.now() + 60_000),
      },
    });
    expect(await rowsOf(user.id)).toMatchObject({ users: 1, sessions: 1, accountTokens: 1, recoveryCodes: 1, totpFactors: 1, pendingSignIns: 1 });
    expect((await t.http.delete(`/admin/users/${user.id}`, { token: user.accessToken })).status).toBe(403);
    expect((await t.http.delete(`/admin/users/${user.id}`, { token: admin.accessToken })).status).toBe(204);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    expect(await rowsOf(user.id)).toEqual({ users: 0, sessions: 0, accountTokens: 0, recoveryCodes: 0, totpFactors: 0, pendingSignIns: 0 });
    const [event] = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: 'user.deleted' } });
    expect(event).toMatchObject({ actorId: admin.id, data: { by: 'admin', sessionsEnded: 1 } });
    expect((await t.http.delete(`/admin/users/${user.id}`, { token: admin.accessToken })).status).toBe(404);
    expect((await t.http.delete('/admin/users/not-a-uuid', { token: admin.accessToken })).status).toBe(404);
  });

  it('409 for the last admin, by themselves or by another admin; with another admin it goes', async () => {
    expect((await t.http.delete('/auth/me', { token: admin.accessToken })).body).toEqual({ statusCode: 409, message: LAST_ADMIN, error: 'Conflict' });
    expect((await t.http.delete(`/admin/users/${admin.id}`, { token: admin.accessToken })).status).toBe(409);

    const second = await newUser(t.http);
    expect((await t.http.patch(`/admin/users/${second.id}`, { role: 'ADMIN' }, { token: admin.accessToken })).status).toBe(200);
    const secondAdmin = await newSession(t.http, second);
    expect((await t.http.delete(`/admin/users/${admin.id}`, { token: secondAdmin.accessToken })).status).toBe(204);
    expect((await t.http.get('/auth/me', { token: admin.accessToken })).status).toBe(401);
    // Now the last one.
    expect((await t.http.delete('/auth/me', { token: secondAdmin.accessToken })).status).toBe(409);
  });
});
