import { awayFromStepEdge, claimsOf, enrolledUser, firstStep, totpAt, type EnrolledUser } from '../mfa/support';
import { ExampleProcess } from '../support/example-process';
import { ADMIN_ENV, newAdmin, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { useApp } from '../support/test-app';
import { sleep, waitFor } from '../support/wait';

/** The example's staleness bound (its AUTH_MAX_STALENESS_MS): how stale its memory of revocations may be when it answers. */
const BOUND_MS = 1000;
/**
 * The bound plus room for a loaded machine (two shared cores, a Nest process each side):
 * what is asserted is "refused before this deadline", not how fast.
 */
const DEADLINE_MS = BOUND_MS + 10_000;

/**
 * A factor removed reaches every service (issue 26, "step-up in every service"): a user
 * with TOTP signs in at aal2 on two sessions; session A's token passes @RequireAuth({ acr:
 * 'aal2' }) on GET /sensitive of examples/protected-service (a process of its own, judging
 * from the token); then the factor goes (DELETE /auth/mfa/totp from session B, or an
 * admin's DELETE /admin/users/:id/mfa), which ends the other sessions; the service refuses
 * A's token, which still carries acr aal2 and has not expired, once the revocation feed
 * brings the end: within its bound.
 */
describe('@RequireAuth in examples/protected-service: a token of a session that lost its factor', () => {
  const t = useApp(ADMIN_ENV);
  let example: ExampleProcess;
  let service: Http;
  let admin: TestUser;

  beforeAll(async () => {
    admin = await newAdmin(t.http);
    const client = await t.http.post('/admin/clients', { name: 'protected-service' }, { token: admin.accessToken });
    example = await ExampleProcess.start({
      AUTH_ISSUER: t.server.config.auth.issuer,
      AUTH_SERVER_URL: t.server.baseUrl,
      AUTH_CLIENT_ID: client.body.clientId,
      AUTH_CLIENT_SECRET: client.body.clientSecret,
      AUTH_MAX_STALENESS_MS: String(BOUND_MS),
    });
    service = new Http(example.baseUrl);
    await waitFor('the service’s revocation feed to be live', async () => (await service.get('/health')).body.revocations === 'live');
  }, 240_000);

  afterAll(async () => {
    await example?.stop();
  });

  /** A sign-in in two steps with the TOTP code of `step` (each step is accepted once per user): an aal2 session. */
  async function signedInWithTotp(user: EnrolledUser, step: number) {
    const mfaToken = await firstStep(t.http, user);
    const res = await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: totpAt(user.secret, step) });
    expect(res.status).toBe(200);
    expect(claimsOf(res.body.accessToken)).toMatchObject({ acr: 'aal2' });
    return res.body as { accessToken: string; refreshToken: string; sessionId: string };
  }

  /** Asks the service with `token` until it is refused; fails when that has not happened by the deadline. */
  async function refusedBeforeDeadline(token: string) {
    const deadline = Date.now() + DEADLINE_MS;
    let last = 0;
    while (Date.now() < deadline) {
      last = (await service.get('/sensitive', { token })).status;
      if (last === 401) break;
      await sleep(20);
    }
    expect({ status: last, refusedBeforeDeadline: last === 401 }).toEqual({ status: 401, refusedBeforeDeadline: true });
    const again = await service.get('/sensitive', { token });
    // Refused as a revoked token, not as a weak or stale one: the session ended.
    expect(again.status).toBe(401);
    expect(again.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  }

  it('refuses session A’s token once the user disables TOTP from session B (after re-authenticating there)', async () => {
    const user = await enrolledUser(t.http);
    const step = await awayFromStepEdge();
    const a = await signedInWithTotp(user, step);
    const b = await signedInWithTotp(user, step + 1);
    expect((await service.get('/sensitive', { token: a.accessToken })).status).toBe(200);

    // B re-authenticates with a recovery code (both TOTP steps of now are spent), as the console's prompt would.
    const reauth = await t.http.post('/auth/reauthenticate', { method: 'recovery_code', code: user.recoveryCodes[0] }, { token: b.accessToken });
    expect(reauth.status).toBe(200);
    const disabled = await t.http.delete('/auth/mfa/totp', { token: reauth.body.accessToken });
    expect(disabled.status).toBe(204);

    await refusedBeforeDeadline(a.accessToken);
    // B, the session that made the change, is not ended by it (it is aal2 still, and fresh).
    expect((await service.get('/sensitive', { token: reauth.body.accessToken })).status).toBe(200);
  });

  it('refuses session A’s token once an admin resets the user’s second factors (every session ends)', async () => {
    const user = await enrolledUser(t.http);
    const step = await awayFromStepEdge();
    const a = await signedInWithTotp(user, step);
    const b = await signedInWithTotp(user, step + 1);
    expect((await service.get('/sensitive', { token: a.accessToken })).status).toBe(200);

    const reset = await t.http.delete(`/admin/users/${user.id}/mfa`, { token: admin.accessToken });
    expect(reset.status).toBe(204);

    await refusedBeforeDeadline(a.accessToken);
    await refusedBeforeDeadline(b.accessToken);
  });
});
