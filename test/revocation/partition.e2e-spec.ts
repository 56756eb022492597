import { ADMIN_ENV, newAdmin, newSession, newUser } from '../support/factories';
import { Http } from '../support/http';
import { ServerBuild, ServerProcess } from '../support/server-process';
import { TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

/**
 * A silent partition of one instance's LISTEN connection (a dead switch: no RST, no FIN,
 * nothing delivered) while another instance ends a session. Instance B trusts its memory
 * only under a lease certified by round trips on that connection, so once the lease runs
 * out (REVOCATION_MAX_STALENESS) it reads the database instead, and never again accepts
 * the ended session's token. The window is reported, not asserted: the benchmark measures it.
 */
describeOnPostgres('revocation under a silent partition of the LISTEN connection', () => {
  let db: TestDatabase;
  let build: ServerBuild;
  let proxy: TcpProxy;
  let httpA: Http;
  let httpB: Http;

  beforeAll(async () => {
    db = await createTestDatabase();
    build = ServerBuild.create();
    const direct = new URL(db.env.DATABASE_URL!);
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port));
    httpA = new Http((await ServerProcess.start(build, db, ADMIN_ENV)).baseUrl);
    // Only B's LISTEN connection goes through the proxy; its queries go straight to the database.
    const b = await ServerProcess.start(build, db, { DATABASE_LISTEN_URL: proxy.rewrite(db.env.DATABASE_URL!), REVOCATION_MAX_STALENESS: '1s' });
    httpB = new Http(b.baseUrl);
  }, 180_000);
  afterAll(async () => {
    await ServerProcess.killAll();
    await proxy?.close();
    build?.remove();
    await db?.drop();
  });

  it('refuses a session ended elsewhere once its lease has run out, never accepts it again, and keeps serving live sessions', async () => {
    const user = await newUser(httpA);
    const bystander = await newUser(httpA);
    const otherDevice = await newSession(httpA, user);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);

    proxy.silence();
    const loggedOut = await httpA.post('/auth/logout', undefined, { token: user.accessToken });
    expect(loggedOut.status).toBe(204);
    const endedAt = Date.now();

    // Ask B until it refuses; then keep asking while the partition lasts: never a 200 again.
    const answers: Array<{ at: number; status: number }> = [];
    await waitFor(
      'B to refuse the ended session',
      async () => {
        const res = await httpB.get('/auth/me', { token: user.accessToken });
        answers.push({ at: Date.now(), status: res.status });
        return res.status === 401;
      },
      { attempts: 1000, everyMs: 5 },
    );
    for (let i = 0; i < 20; i++) answers.push({ at: Date.now(), status: (await httpB.get('/auth/me', { token: user.accessToken })).status });
    const firstRefusal = answers.findIndex((a) => a.status === 401);
    expect(answers.slice(firstRefusal).map((a) => a.status)).toEqual(answers.slice(firstRefusal).map(() => 401));
    expect(answers.slice(0, firstRefusal).every((a) => a.status === 200)).toBe(true);

    // Still partitioned: live sessions on B are served (from the database), the same
    // user's other session included; nothing of this came through the LISTEN connection.
    expect((await httpB.get('/auth/me', { token: otherDevice.accessToken })).status).toBe(200);
    expect((await httpB.get('/auth/me', { token: bystander.accessToken })).status).toBe(200);
    const accepted = answers.slice(0, firstRefusal).length;
    console.log(
      `silent partition: B refused the ended session ${answers[firstRefusal].at - endedAt} ms after the logout answered ` +
        `(${accepted} request(s) accepted before, REVOCATION_MAX_STALENESS=1s)`,
    );

    // The partition heals: B reconnects, reloads, and refuses from memory again.
    await proxy.restore();
    expect((await httpA.post('/auth/logout-all', undefined, { token: otherDevice.accessToken })).status).toBe(204);
    await waitFor('B to hear the logout-all', async () => (await httpB.get('/auth/me', { token: otherDevice.accessToken })).status === 401);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    expect((await httpB.get('/auth/me', { token: bystander.accessToken })).status).toBe(200);
  });

  it('refuses the tokens of a signing key revoked elsewhere once its lease has run out, and then signs with the promoted key', async () => {
    const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;
    const publishedByB = async () => ((await httpB.get('/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((k) => k.kid);
    const admin = await newAdmin(httpA);
    const user = await newUser(httpA);
    const compromised = kidOf(user.accessToken);
    const next = (await httpA.post('/admin/keys/rotate', undefined, { token: admin.accessToken })).body as { kid: string };
    // B hears the rotation: its LISTEN connection is back, and it knows the key that will take over.
    await waitFor('B to publish the next key', async () => (await publishedByB()).includes(next.kid));
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);

    proxy.silence();
    expect((await httpA.delete(`/admin/keys/${compromised}`, { token: admin.accessToken })).status).toBe(204);
    const statuses: number[] = [];
    await waitFor(
      'B to refuse the revoked key',
      async () => {
        statuses.push((await httpB.get('/auth/me', { token: user.accessToken })).status);
        return statuses.at(-1) === 401;
      },
      { attempts: 1000, everyMs: 5 },
    );
    for (let i = 0; i < 20; i++) statuses.push((await httpB.get('/auth/me', { token: user.accessToken })).status);
    const firstRefusal = statuses.indexOf(401);
    expect(statuses.slice(firstRefusal).every((status) => status === 401)).toBe(true);

    // Still partitioned, B found the key revoked in the database: it signs with the promoted key.
    const refreshed = await httpB.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(kidOf(refreshed.body.accessToken)).toBe(next.kid);
    for (const http of [httpA, httpB]) expect((await http.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);

    await proxy.restore();
    await waitFor('B to stop publishing the revoked key', async () => !(await publishedByB()).includes(compromised));
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(401);
  });
});
