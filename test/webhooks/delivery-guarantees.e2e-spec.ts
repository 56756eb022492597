import { Webhook } from 'standardwebhooks';
import { ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { Http } from '../support/http';
import { ServerProcess, useServerBuild } from '../support/server-process';
import { describeOnPostgres } from '../support/test-database';
import { useReceiver } from '../support/webhook-receiver';
import { waitFor } from '../support/wait';

/**
 * What the outbox promises webhooks (API.md): a committed change is delivered even if the
 * process dies right after it (at least once, with the same `webhook-id`), and with several
 * instances each event is delivered once. Real server processes, killed for real.
 */

const ENV = { ...ADMIN_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', OUTBOX_RETRY_SCHEDULE: '0,3s,3s,3s,3s,3s,3s,3s,3s,3s' };

describe('webhooks: a crash right after a committed logout loses nothing (SIGKILL)', () => {
  const receiver = useReceiver();
  const built = useServerBuild();

  it('the event, committed but not delivered when the process was killed, is delivered after a restart with the same webhook-id', async () => {
    let server = await ServerProcess.start(built.build, built.db, ENV);
    let http = new Http(server.baseUrl);
    const admin = await newAdmin(http);
    const hook = await http.post('/admin/webhooks', { url: receiver.url('/crash'), events: ['session.revoked'] }, { token: admin.accessToken });
    const user = await newUser(http);
    // The receiver fails while the first server lives: the row stays pending.
    receiver.script('/crash', ...Array<number>(100).fill(500));
    expect((await http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    // Killed once the failed attempt is recorded (an attempt in flight would hold its lease, 2 minutes, before another worker may take it).
    const pending = async () =>
      (await http.get(`/admin/webhooks/${hook.body.id}/deliveries`, { token: admin.accessToken })).body.items.find(
        (d: { status: string; lastStatusCode: number | null }) => d.status === 'pending' && d.lastStatusCode === 500,
      );
    await waitFor('the delivery committed, attempted and retried later', async () => Boolean(await pending()));

    server.kill('SIGKILL');
    await server.exited;
    const failedBefore = receiver.on('/crash').length;
    receiver.script('/crash');
    server = await ServerProcess.start(built.build, built.db, ENV);
    http = new Http(server.baseUrl);
    await waitFor('a request answered 200 after the restart', () => receiver.on('/crash').length > failedBefore);
    const requests = receiver.on('/crash');
    const last = requests[requests.length - 1];
    const payload = new Webhook(hook.body.secret).verify(last.body, last.headers as Record<string, string>) as {
      type: string;
      data: { id: string; userId: string };
    };
    expect(payload).toMatchObject({ type: 'session.revoked', data: { userId: user.id } });
    // Before the crash and after it: one message, one id.
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([`msg_${payload.data.id}`]));
    await waitFor('delivered', async () => {
      const [delivery] = (await http.get(`/admin/webhooks/${hook.body.id}/deliveries`, { token: admin.accessToken })).body.items;
      return delivery?.status === 'delivered';
    });
    expect(server.logs()).not.toContain(hook.body.secret.slice(6));
    await server.stop();
  });
});

describeOnPostgres('webhooks: two instances on one database deliver each event once', () => {
  const receiver = useReceiver();
  const built = useServerBuild();

  it('thirty logouts, made on both instances and both delivering: thirty webhook-ids, each received once', async () => {
    const a = await ServerProcess.start(built.build, built.db, ENV);
    const b = await ServerProcess.start(built.build, built.db, ENV);
    const [httpA, httpB] = [new Http(a.baseUrl), new Http(b.baseUrl)];
    const admin = await newAdmin(httpA);
    const hook = await httpA.post('/admin/webhooks', { url: receiver.url('/twice'), events: ['session.revoked'] }, { token: admin.accessToken });
    const users = await Promise.all(Array.from({ length: 30 }, (_, i) => newUser(i % 2 ? httpA : httpB)));
    await Promise.all(users.map((user, i) => (i % 2 ? httpB : httpA).post('/auth/logout', undefined, { token: user.accessToken })));

    await receiver.waitFor('/twice', 30);
    await waitFor('every delivery recorded', async () => {
      const items = (await httpB.get(`/admin/webhooks/${hook.body.id}/deliveries?take=100`, { token: admin.accessToken })).body.items;
      return items.length === 30 && items.every((d: { status: string }) => d.status === 'delivered');
    });
    const ids = receiver.on('/twice').map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    const userIds = receiver
      .on('/twice')
      .map((r) => (new Webhook(hook.body.secret).verify(r.body, r.headers as Record<string, string>) as { data: { userId: string } }).data.userId);
    expect(userIds.sort()).toEqual(users.map((u) => u.id).sort());
  });
});
