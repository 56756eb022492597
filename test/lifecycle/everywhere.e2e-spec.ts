import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { ExampleProcess } from '../support/example-process';
import { Http } from '../support/http';
import { linkIn, MailCatcher } from '../support/mail-catcher';
import { SERVER_APP_URL, ServerBuild, ServerProcess } from '../support/server-process';
import { createTestDatabase, dbKind, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

/**
 * A deleted account's tokens, beyond the instance that deleted it: on PostgreSQL a second
 * auth instance (B) on the same database, and examples/protected-service (fed by B; on
 * PGlite, one process, by A) refuse them; neither accepts again after its first refusal.
 */
describe('Deletion reaches every instance and every relying service', () => {
  let db: TestDatabase;
  let build: ServerBuild;
  let a: ServerProcess;
  let b: ServerProcess;
  let example: ExampleProcess;
  let httpA: Http;
  let httpB: Http;
  let service: Http;
  let admin: TestUser;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    db = await createTestDatabase();
    await smtp.start();
    const mail = { SMTP_URL: smtp.url, RATE_LIMIT_MAIL: '0' };
    build = ServerBuild.create();
    a = await ServerProcess.start(build, db, { ...ADMIN_ENV, ...mail });
    b = dbKind() === 'postgres' ? await ServerProcess.start(build, db, mail) : a;
    httpA = new Http(a.baseUrl);
    httpB = new Http(b.baseUrl);
    admin = await newAdmin(httpA);
    const client = await httpA.post('/admin/clients', { name: 'protected-service' }, { token: admin.accessToken });
    example = await ExampleProcess.start({
      AUTH_ISSUER: SERVER_APP_URL,
      AUTH_SERVER_URL: b.baseUrl,
      AUTH_CLIENT_ID: client.body.clientId,
      AUTH_CLIENT_SECRET: client.body.clientSecret,
      AUTH_MAX_STALENESS_MS: '1000',
    });
    service = new Http(example.baseUrl);
    await waitFor('the service’s revocation feed to be live', async () => (await service.get('/health')).body.revocations === 'live');
  }, 240_000);

  afterAll(async () => {
    await example?.stop();
    await ServerProcess.killAll();
    await smtp.stop();
    build?.remove();
    await db?.drop();
  });

  /** Asks until `ask` answers 401, then checks it never answers anything else again; before it, only 200s. */
  async function refusedFromNowOn(what: string, ask: () => Promise<number>): Promise<void> {
    const answers: number[] = [];
    await waitFor(
      `${what} to refuse`,
      async () => {
        answers.push(await ask());
        return answers.at(-1) === 401;
      },
      { attempts: 2000, everyMs: 1 },
    );
    for (let i = 0; i < 10; i++) expect({ what, status: await ask() }).toEqual({ what, status: 401 });
    expect(answers.slice(0, -1).every((status) => status === 200)).toBe(true);
  }

  it.each([
    ['DELETE /auth/me', (user: TestUser) => httpA.delete('/auth/me', { token: user.accessToken })],
    ['DELETE /admin/users/:id', (user: TestUser) => httpA.delete(`/admin/users/${user.id}`, { token: admin.accessToken })],
  ])('%s: the tokens of every session are refused on A at once, on B and at the service as soon as they hear it', async (_route, remove) => {
    const user = await newUser(httpA);
    const other = await newSession(httpA, user);
    for (const token of [user.accessToken, other.accessToken]) {
      expect((await httpB.get('/auth/me', { token })).status).toBe(200);
      expect((await service.get('/whoami', { token })).body).toMatchObject({ id: user.id });
    }

    expect((await remove(user)).status).toBe(204);
    expect((await httpA.get('/auth/me', { token: other.accessToken })).status).toBe(401);
    for (const token of [user.accessToken, other.accessToken]) {
      await refusedFromNowOn('instance B', async () => (await httpB.get('/auth/me', { token })).status);
      await refusedFromNowOn('the service', async () => (await service.get('/whoami', { token })).status);
    }
    expect((await httpB.post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(401);
  });

  it('an email change confirmed on A shows on B: its cached profile is dropped when it hears the change', async () => {
    const user = await newUser(httpA);
    // Verified: B keeps a verified profile without reading it again, so only the notice can refresh it.
    const verify = linkIn(await smtp.nth(user.email, 'verify-email'), 'verify-email');
    expect((await httpA.post('/auth/email/verify', { token: verify.token })).status).toBe(204);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).body).toMatchObject({ email: user.email, emailVerified: true });

    const newEmail = `moved-${user.email}`;
    expect((await httpA.post('/auth/email/change', { newEmail }, { token: user.accessToken })).status).toBe(202);
    const { token } = linkIn(await smtp.nth(newEmail, 'confirm-email'), 'confirm-email');
    expect((await httpA.post('/auth/email/change/confirm', { token })).status).toBe(204);
    expect((await httpA.get('/auth/me', { token: user.accessToken })).body.email).toBe(newEmail);
    await waitFor('B to show the new address', async () => (await httpB.get('/auth/me', { token: user.accessToken })).body.email === newEmail);
  });
});
