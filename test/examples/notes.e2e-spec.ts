import { NotesModule } from '../../examples/notes/notes.module';
import { ADMIN_ENV, newAdmin, newUser, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { KeepAliveClient, type RawResponse } from '../support/keep-alive-client';
import { ServerBuild, ServerProcess, useServerBuild, type Exit } from '../support/server-process';
import { useApp } from '../support/test-app';
import { within } from '../support/wait';

/**
 * examples/notes mounted the supported way, createApp's extraImports: the product's guards,
 * revocation and body rules reach a module they know nothing about.
 */
describe('examples/notes: a feature module mounted with extraImports', () => {
  const t = useApp(ADMIN_ENV, { extraImports: [NotesModule] });

  const mine = (token?: string) => t.http.get('/examples/notes/mine', { token });
  const write = (user: TestUser, text: string) => t.http.post('/examples/notes', { text }, { token: user.accessToken });

  it('@Public(): answers without a token, and counts notes whoever wrote them', async () => {
    const before = await t.http.get('/examples/notes/public');
    expect(before.status).toBe(200);
    expect((await write(await newUser(t.http), 'counted')).status).toBe(201);
    expect((await t.http.get('/examples/notes/public')).body).toEqual({ total: before.body.total + 1 });
  });

  it('protected by default: 401 with the Bearer challenge without a token or with a bad one', async () => {
    const anonymous = await mine();
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    const garbage = await mine('garbage');
    expect([garbage.status, garbage.headers.get('www-authenticate')]).toEqual([401, 'Bearer error="invalid_token"']);
    expect((await t.http.post('/examples/notes', { text: 'anonymous' })).status).toBe(401);
  });

  it('@CurrentUser(): each user sees only their own notes', async () => {
    const ada = await newUser(t.http);
    const bob = await newUser(t.http);
    const created = await write(ada, 'first');
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), ownerId: ada.id, text: 'first', createdAt: expect.any(String) });
    await write(ada, 'second');
    await write(bob, 'bob only');

    const res = await mine(ada.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.map((note: { text: string; ownerId: string }) => [note.text, note.ownerId])).toEqual([
      ['first', ada.id],
      ['second', ada.id],
    ]);
    expect((await mine(bob.accessToken)).body.map((note: { text: string }) => note.text)).toEqual(['bob only']);
  });

  it('after logout the same access token gets 401 at once on the example routes too', async () => {
    const user = await newUser(t.http);
    await write(user, 'before logout');
    expect((await mine(user.accessToken)).status).toBe(200);

    expect((await t.http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    const res = await mine(user.accessToken);
    expect([res.status, res.headers.get('www-authenticate')]).toEqual([401, 'Bearer error="invalid_token"']);
    expect((await write(user, 'after logout')).status).toBe(401);
  });

  it('@AdminOnly(): 401 anonymous, 403 for a USER, 200 with every note for the admin', async () => {
    const user = await newUser(t.http);
    const other = await newUser(t.http);
    await write(user, 'seen by the admin');
    await write(other, 'this one too');

    const anonymous = await t.http.get('/examples/notes/all');
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    const asUser = await t.http.get('/examples/notes/all', { token: user.accessToken });
    expect([asUser.status, asUser.body.message]).toEqual([403, 'Insufficient role']);

    const admin = await newAdmin(t.http);
    const asAdmin = await t.http.get('/examples/notes/all', { token: admin.accessToken });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ownerId: user.id, text: 'seen by the admin' }),
        expect.objectContaining({ ownerId: other.id, text: 'this one too' }),
      ]),
    );
  });

  it('a bad body is a 400 listing every problem, unknown fields included; nothing is stored', async () => {
    const user = await newUser(t.http);
    const other = await newUser(t.http);
    const res = await t.http.post('/examples/notes', { text: 42, ownerId: other.id }, { token: user.accessToken });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Bad Request');
    expect(res.body.message).toEqual(
      expect.arrayContaining(['text must be a string', 'text must be 1 to 500 characters', 'property ownerId should not exist']),
    );
    const tooLong = await write(user, 'x'.repeat(501));
    expect([tooLong.status, tooLong.body.message]).toEqual([400, ['text must be 1 to 500 characters']]);

    expect((await mine(user.accessToken)).body).toEqual([]);
    expect((await mine(other.accessToken)).body).toEqual([]);
  });

  it('documents its routes in /docs-json: the admin one with 401 and 403, the POST with 400', async () => {
    const paths = (await t.http.get('/docs-json')).body.paths;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/examples/notes/public', '/examples/notes/mine', '/examples/notes', '/examples/notes/all']));
    const all = paths['/examples/notes/all'].get;
    expect(all.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(all.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
    expect(paths['/examples/notes/public'].get.security).toBeUndefined();
    expect(Object.keys(paths['/examples/notes'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401']));
  });
});

/**
 * examples/notes built and run as examples/README.md says (`npx tsc -p examples/notes`,
 * `node examples/notes/dist/examples/notes/main.js`), stopped as a process manager stops
 * it: the same graceful stop as the server's own main.ts (test/resilience/faults.e2e-spec.ts).
 */
describe('examples/notes as a process: SIGTERM', () => {
  const ctx = useServerBuild(() => ServerBuild.createExample('examples/notes', 'examples/notes/main.js'));

  it('starts as examples/README.md runs it, in development (mails written to files, from the shipped templates)', async () => {
    const server = await ServerProcess.start(ctx.build, ctx.db, { NODE_ENV: 'development' });
    expect((await new Http(server.baseUrl).get('/examples/notes/public')).status).toBe(200);
    server.kill('SIGKILL');
    await server.exited;
  });

  it('finishes the requests in flight, lets go of idle keep-alive connections, exits 0, and keeps what they wrote', async () => {
    let server = await ServerProcess.start(ctx.build, ctx.db);
    let http = new Http(server.baseUrl);
    let logins: string[];
    const users = await Promise.all(Array.from({ length: 5 }, () => newUser(http)));
    const client = new KeepAliveClient(server.baseUrl);
    try {
      await client.warm(26);
      // 20 notes written and 5 logins (argon2) leave together on open connections; once
      // GET /health is answered the server has read them all, and SIGTERM arrives then.
      const requests = [
        ...Array.from({ length: 20 }, (_, i) => {
          const user = users[i % users.length];
          return client.send('POST', '/examples/notes', { text: `in flight ${i}` }, { authorization: `Bearer ${user.accessToken}` });
        }),
        ...users.map((user) => client.send('POST', '/auth/login', { email: user.email, password: user.password })),
      ];
      expect((await client.send('GET', '/health')).status).toBe(200);
      server.kill('SIGTERM');
      const settled = await Promise.allSettled(requests);
      const exit = await within(server.exited, 45_000, 'still running 45 s after SIGTERM');

      expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.status : String(s.reason)))).toEqual([...Array(20).fill(201), ...Array(5).fill(200)]);
      expect({ exit, logs: (exit as Exit).code === 0 ? '' : server.logs() }).toEqual({ exit: { code: 0, signal: null }, logs: '' });
      logins = settled.slice(20).map((s) => (s as PromiseFulfilledResult<RawResponse>).value.body.accessToken as string);
    } finally {
      client.destroy();
    }

    // Restarted on the same database (for PGlite: the same directory, closed cleanly), the
    // sessions the logins in flight opened are there. (Notes are the example's memory.)
    server = await ServerProcess.start(ctx.build, ctx.db);
    http = new Http(server.baseUrl);
    for (const token of logins) expect((await http.get('/auth/me', { token })).status).toBe(200);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }, 120_000);
});
