import { ExampleProcess } from '../support/example-process';
import { ADMIN_ENV, newAdmin, newUser, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { useApp } from '../support/test-app';
import { waitFor } from '../support/wait';
import { claimsOf, enrolled, SPEC_CODE, SpecStepUpModule } from '../step-up/support';

const PREFIX = 'Bearer error="insufficient_user_authentication", error_description=';

/**
 * Step-up in another service: examples/protected-service (a process of its own) has one
 * route with `@RequireAuth({ acr: 'aal2', maxAge: 300 })`, judged from the token's claims
 * alone. The auth server runs in this process, with a spec-only second factor
 * (test/step-up/support.ts): its re-authentication gives an aal2 token, as TOTP will. A
 * stale token: the session's auth_time set an hour back in the database, then a refresh
 * (which carries it over). No waiting.
 */
describe('@RequireAuth in examples/protected-service: RFC 9470 from the token, no call to the auth server', () => {
  const t = useApp(ADMIN_ENV, { extraImports: [SpecStepUpModule] });
  let example: ExampleProcess;
  let service: Http;

  beforeAll(async () => {
    const admin = await newAdmin(t.http);
    const client = await t.http.post('/admin/clients', { name: 'protected-service' }, { token: admin.accessToken });
    example = await ExampleProcess.start({
      AUTH_ISSUER: t.server.config.auth.issuer,
      AUTH_SERVER_URL: t.server.baseUrl,
      AUTH_CLIENT_ID: client.body.clientId,
      AUTH_CLIENT_SECRET: client.body.clientSecret,
    });
    service = new Http(example.baseUrl);
    await waitFor('the service’s revocation feed to be live', async () => (await service.get('/health')).body.revocations === 'live');
  }, 240_000);

  afterAll(async () => {
    await example?.stop();
  });

  /** A user with the spec's second factor, re-authenticated with it: an aal2 token, auth_time now. */
  async function aal2User(): Promise<TestUser> {
    const user = await newUser(t.http);
    enrolled.add(user.id);
    const res = await t.http.post('/auth/reauthenticate', { method: 'spec_otp', code: SPEC_CODE }, { token: user.accessToken });
    expect(res.status).toBe(200);
    return { ...user, accessToken: res.body.accessToken };
  }

  it('lets a fresh aal2 token through, with its authentication', async () => {
    const user = await aal2User();
    const res = await service.get('/sensitive', { token: user.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: { id: user.id, sessionId: user.sessionId, role: 'USER' },
      authentication: { authTime: claimsOf(user.accessToken).auth_time, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' },
    });
  });

  it('answers a stale aal2 token 401 with max_age, and the same session passes again after a re-authentication', async () => {
    const user = await aal2User();
    await t.server.prisma.session.update({ where: { id: user.sessionId }, data: { authTime: new Date(Date.now() - 3_600_000) } });
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(claimsOf(refreshed.body.accessToken)).toMatchObject({ acr: 'aal2', sid: user.sessionId });

    const stale = await service.get('/sensitive', { token: refreshed.body.accessToken });
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toBe(`${PREFIX}"A more recent authentication is required", max_age=300`);
    expect(stale.body).toMatchObject({ statusCode: 401, message: 'A more recent authentication is required' });
    // Only the step-up route: the token is valid.
    expect((await service.get('/whoami', { token: refreshed.body.accessToken })).status).toBe(200);

    const again = await t.http.post('/auth/reauthenticate', { method: 'spec_otp', code: SPEC_CODE }, { token: refreshed.body.accessToken });
    expect(claimsOf(again.body.accessToken).sid).toBe(user.sessionId);
    expect((await service.get('/sensitive', { token: again.body.accessToken })).status).toBe(200);
  });

  it('answers an aal1 token (fresh) 401 with acr_values="aal2"', async () => {
    const user = await newUser(t.http);
    const asked = (await service.get('/health')).body.introspections;
    const res = await service.get('/sensitive', { token: user.accessToken });
    expect(res.status).toBe(401);
    // Judged from the token: the auth server was not asked.
    expect((await service.get('/health')).body.introspections).toBe(asked);
    expect(res.headers.get('www-authenticate')).toBe(`${PREFIX}"Authentication with a second factor is required", max_age=300, acr_values="aal2"`);
    expect((await service.get('/whoami', { token: user.accessToken })).status).toBe(200);
  });

  it('still refuses an invalid token first, with the invalid_token challenge', async () => {
    const res = await service.get('/sensitive', { token: 'not-a-token' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });
});
