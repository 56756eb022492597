import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Database } from '../../src/database/database';
import { DATABASE } from '../../src/database/database.constants';
import { isDatabaseUnavailable } from '../../src/common/http-exception.filter';
import { newUser, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, dbKind, type TestDatabase } from '../support/test-database';
import { expectError } from './support';

/**
 * The database goes away under a running server: requests that need it get 503
 * `Database unavailable` in the error shape (not a 500, not a 401 that would make
 * clients drop good tokens), and the logs hold neither the passwords nor the tokens of
 * the requests that failed.
 */
describe('database outage', () => {
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;
  let user: TestUser;
  let cut: () => Promise<void>;
  let proxy: { server: Server; sockets: Set<Socket> } | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    if (dbKind() === 'postgres') {
      // The server reaches PostgreSQL through a TCP proxy of ours: closing it is the
      // network going down (connections cut, new ones refused).
      const target = new URL(db.env.DATABASE_URL!);
      const sockets = new Set<Socket>();
      const proxyServer = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => proxyServer.listen(0, '127.0.0.1', resolve));
      proxy = { server: proxyServer, sockets };
      const viaProxy = new URL(target);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String((proxyServer.address() as { port: number }).port);
      server = await startApp({ ...db, env: { ...db.env, DATABASE_URL: viaProxy.toString() } });
      cut = async () => {
        await new Promise<void>((resolve) => {
          proxyServer.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
      };
    } else {
      server = await startApp(db);
      // The embedded database closes under the server (as a crashed or unmounted data dir would).
      cut = () => server.app.get<Database>(DATABASE).close();
    }
    http = new Http(server.baseUrl);
    user = await newUser(http);
  });

  afterAll(async () => {
    await server?.close().catch(() => undefined);
    proxy?.server.close();
    for (const s of proxy?.sockets ?? []) s.destroy();
    await db?.drop();
  });

  it('answers 503 Database unavailable to every request that needs the database, and logs no secret', async () => {
    await cut();
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const attempts = [
      await http.post('/auth/register', { email: `outage-${randomBytes(4).toString('hex')}@example.com`, password }),
      await http.post('/auth/login', { email: user.email, password: user.password }),
      await http.post('/auth/refresh', { refreshToken: user.refreshToken }),
      await http.post('/auth/revoke', { refreshToken: user.refreshToken }),
    ];
    for (const res of attempts) {
      expectError(res, 503);
      expect(res.body).toEqual({ statusCode: 503, message: 'Database unavailable', error: 'Service Unavailable' });
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    // Bad input is still a 400: validation comes before the database.
    expectError(await http.post('/auth/login', { email: 'x', password: 'y' }), 400);

    const logs = server.logs();
    expect(logs).toContain('Database unavailable');
    for (const secret of [password, user.password, user.refreshToken, user.accessToken]) expect(logs).not.toContain(secret);
  });
});

describe('isDatabaseUnavailable', () => {
  const wrap = (cause: unknown) =>
    Object.assign(new Error('Database error'), {
      name: 'PrismaClientKnownRequestError',
      code: 'P2039',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause } },
    });

  it.each([
    ['PrismaClientInitializationError', Object.assign(new Error('x'), { name: 'PrismaClientInitializationError' })],
    ['P1001', Object.assign(new Error('x'), { code: 'P1001' })],
    ['P1017', Object.assign(new Error('x'), { code: 'P1017' })],
    ['P2024', Object.assign(new Error('x'), { code: 'P2024' })],
    ['a DatabaseNotReachable adapter error', wrap({ kind: 'DatabaseNotReachable', host: 'db', port: 5432 })],
    ['a ConnectionClosed adapter error', wrap({ kind: 'ConnectionClosed' })],
    ['a postgres 57P01 (admin shutdown)', wrap({ kind: 'postgres', code: '57P01', message: 'terminating connection' })],
    ['a SQLSTATE 08006 as originalCode', wrap({ kind: 'postgres', originalCode: '08006' })],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['an ECONNRESET cause', new Error('query failed', { cause: Object.assign(new Error('read'), { code: 'ECONNRESET' }) })],
    ['"Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly')],
    ['a closed pg pool', new Error('Cannot use a pool after calling end on the pool')],
  ])('is true for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', Object.assign(new Error('Unique constraint failed'), { code: 'P2002' })],
    ['a validation error', Object.assign(new Error('Invalid `prisma.user.update()` invocation'), { name: 'PrismaClientValidationError' })],
    ['a postgres syntax error', wrap({ kind: 'postgres', code: '42601', message: 'syntax error' })],
    ['a TypeError', new TypeError('Cannot read properties of null')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
    [
      'a cycle of causes',
      (() => {
        const e: Error & { cause?: unknown } = new Error('x');
        e.cause = e;
        return e;
      })(),
    ],
  ])('is false for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
