import { ADMIN, ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { ServerProcess, useServerBuild } from '../support/server-process';
import { useApp } from '../support/test-app';
import { Http } from '../support/http';
import { waitFor } from '../support/wait';

/** The outbox (API.md, "Webhooks and back-channel logout"), through its first kind: mail. */

const FAST_RETRIES = {
  OUTBOX_RETRY_SCHEDULE: '0,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
};

describe('outbox: SMTP down while a reset is requested', () => {
  const env: Record<string, string> = { ...FAST_RETRIES, RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);
  const delivery = (target: string, eventType: string) => t.server.prisma.outboxDelivery.findFirst({ where: { target, eventType } });

  it('the request still answers 202; attempts fail and are recorded; the mail goes out once SMTP is back, and its link works', async () => {
    const user = await newUser(t.http);
    await smtp.nth(user.email, 'verify-email');
    await smtp.stop();

    const res = await t.http.post('/auth/password/forgot', { email: user.email });
    expect([res.status, res.body]).toEqual([202, {}]);
    await waitFor('two failed attempts', async () => ((await delivery(user.email, 'password-reset'))?.attempts ?? 0) >= 2);
    const failing = await delivery(user.email, 'password-reset');
    expect(failing).toMatchObject({ status: 'pending', lastError: expect.stringMatching(/^SMTP: .*ECONNREFUSED/), nextAttemptAt: expect.any(Date) });

    await smtp.start();
    const { token } = linkIn(await smtp.nth(user.email, 'reset-password'), 'reset-password');
    await waitFor('the delivery recorded', async () => (await delivery(user.email, 'password-reset'))?.status === 'delivered');
    expect(await delivery(user.email, 'password-reset')).toMatchObject({ status: 'delivered', lastError: null, payload: null, nextAttemptAt: null });
    expect((await t.http.post('/auth/password/reset', { token, newPassword: 'back in business' })).status).toBe(204);
    expect(smtp.to(user.email, 'reset-password')).toHaveLength(1);
  });

  it('a mail whose link expired before it could be delivered is dropped, not sent', async () => {
    const user = await newUser(t.http);
    await smtp.nth(user.email, 'verify-email');
    await smtp.stop();
    try {
      expect((await t.http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
      await waitFor('a failed attempt', async () => ((await delivery(user.email, 'password-reset'))?.attempts ?? 0) >= 1);
      // The link's expiry (and so the delivery's) moved into the past, as the clock would.
      await t.server.prisma.outboxDelivery.updateMany({
        where: { target: user.email, eventType: 'password-reset' },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      await waitFor('the delivery dropped', async () => (await delivery(user.email, 'password-reset'))?.status === 'failed');
    } finally {
      await smtp.start();
    }
    expect(await delivery(user.email, 'password-reset')).toMatchObject({
      lastError: 'Expired before it could be delivered: dropped',
      payload: null,
      nextAttemptAt: null,
    });
    // A later mail to the same address still goes out, and the dropped one never does.
    expect((await t.http.post('/auth/email/verify/resend', { email: user.email })).status).toBe(202);
    await smtp.nth(user.email, 'verify-email', 2);
    expect(smtp.to(user.email, 'reset-password')).toEqual([]);
  });

  it('a mailbox the server refuses for good (SMTP 5xx) fails at once, with the code', async () => {
    const user = await newUser(t.http, { email: `no-such-mailbox-${Date.now()}@example.com` });
    await waitFor('the delivery failed', async () => (await delivery(user.email, 'email-verification'))?.status === 'failed');
    expect(await delivery(user.email, 'email-verification')).toMatchObject({
      attempts: 1,
      lastStatusCode: 550,
      lastError: expect.stringMatching(/^SMTP: /),
      payload: null,
    });
  });
});

describe('outbox: after the last attempt of OUTBOX_RETRY_SCHEDULE a delivery has failed', () => {
  const env: Record<string, string> = { ...ADMIN_ENV, OUTBOX_RETRY_SCHEDULE: '0,100ms,100ms', RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);

  it('three attempts, then failed (payload gone); /admin/outbox shows it with status=failed', async () => {
    await smtp.stop();
    const user = await newUser(t.http);
    await waitFor('the delivery failed', async () => (await t.server.prisma.outboxDelivery.findFirst({ where: { target: user.email } }))?.status === 'failed');
    const admin = await newAdmin(t.http);
    const res = await t.http.get('/admin/outbox?status=failed', { token: admin.accessToken });
    expect(res.body.items).toEqual([
      expect.objectContaining({
        kind: 'mail',
        target: user.email,
        eventType: 'email-verification',
        status: 'failed',
        attempts: 3,
        nextAttemptAt: null,
        lastError: expect.stringMatching(/ECONNREFUSED/),
      }),
    ]);
    expect((await t.server.prisma.outboxDelivery.findFirstOrThrow({ where: { target: user.email } })).payload).toBeNull();
    expect((await t.http.get('/admin/outbox?status=pending', { token: admin.accessToken })).body.items).toEqual([]);
  });
});

describe('outbox: a crash after the commit loses nothing (SIGKILL, real process)', () => {
  const env: Record<string, string> = { ...ADMIN_ENV, OUTBOX_RETRY_SCHEDULE: '0,1s', RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const built = useServerBuild();

  it('the reset mail, committed but not delivered when the process was killed, is delivered by the next start', async () => {
    let server = await ServerProcess.start(built.build, built.db, env);
    let http = new Http(server.baseUrl);
    const user = await newUser(http);
    await smtp.nth(user.email, 'verify-email');
    await smtp.stop();
    expect((await http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
    const admin = await newAdmin(http, ADMIN);
    const pendingReset = async () =>
      (await http.get('/admin/outbox?kind=mail&status=pending', { token: admin.accessToken })).body.items.find(
        (d: { eventType: string; attempts: number }) => d.eventType === 'password-reset' && d.attempts >= 1,
      );
    await waitFor('the reset mail committed and attempted', async () => Boolean(await pendingReset()));

    server.kill('SIGKILL');
    await server.exited;
    await smtp.start();
    server = await ServerProcess.start(built.build, built.db, env);
    http = new Http(server.baseUrl);
    const { token } = linkIn(await smtp.nth(user.email, 'reset-password'), 'reset-password');
    expect((await http.post('/auth/password/reset', { token, newPassword: 'survived a crash' })).status).toBe(204);
    expect(server.logs()).not.toContain(token);
    await server.stop();
  });
});
