import { newUser } from '../support/factories';
import { Http } from '../support/http';
import { TcpProxy } from '../support/tcp-proxy';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { expectError } from '../security/support';

/**
 * The database connection goes silent (a dead switch: no RST, no FIN) under a running
 * server. A query on it would wait until TCP gives up, minutes later; the pool's query
 * timeout turns it into a 503 instead. The LISTEN connection is direct here, so the
 * revocation lease holds and tokens are still checked from memory meanwhile.
 */
describeOnPostgres('a silent database connection', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let server: TestApp;
  let http: Http;

  beforeAll(async () => {
    db = await createTestDatabase();
    const direct = new URL(db.env.DATABASE_URL!);
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port));
    server = await startApp(db, { DATABASE_URL: proxy.rewrite(db.env.DATABASE_URL!), DATABASE_LISTEN_URL: db.env.DATABASE_URL! });
    http = new Http(server.baseUrl);
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('answers 503 for a request that needs the database instead of hanging, and recovers when the network does', async () => {
    const user = await newUser(http);
    expect((await http.get('/auth/sessions', { token: user.accessToken })).status).toBe(200);

    proxy.silence();
    const stuck = await http.get('/auth/sessions', { token: user.accessToken });
    expectError(stuck, 503);
    expect(stuck.body.message).toBe('Database unavailable');
    // The token itself is still checked from memory: the lease comes from the direct LISTEN connection.
    expect((await http.get('/auth/me', { token: user.accessToken })).status).toBe(200);

    await proxy.restore();
    let answer = 0;
    for (let attempt = 0; attempt < 50 && answer !== 200; attempt++) {
      answer = (await http.get('/auth/sessions', { token: user.accessToken })).status;
      if (answer !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(answer).toBe(200);
  });
});
