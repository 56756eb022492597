import { MFA_FAILED } from '../../src/auth/sign-in/sign-in.service';
import { ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { startApp, useApp, type TestApp } from '../support/test-app';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { Http } from '../support/http';
import { awayFromStepEdge, enrolledUser, totpAt } from '../mfa/support';
import { ORIGIN, claimsOf, passkeySignIn, registerPasskey, userWithPasskey } from './support';

/** A passkey after a password (POST /auth/login/mfa), for step-up (POST /auth/reauthenticate), and across instances. */
describe('a passkey as the second factor', () => {
  const t = useApp(ADMIN_ENV);

  async function passwordStep(user: { email: string; password: string }) {
    const first = await t.http.post('/auth/login', { email: user.email, password: user.password });
    expect(first.body).toMatchObject({ mfaRequired: true });
    return first.body as { mfaToken: string; methods: string[] };
  }

  it('after a password: options list only this user’s passkeys, bound to this pending sign-in; aal2 with pwd, hwk, user, mfa', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, user.accessToken, authenticator);
    const { mfaToken, methods } = await passwordStep(user);
    expect(methods).toEqual(['passkey']);
    const options = await t.http.post('/auth/login/mfa/passkey-options', { mfaToken });
    expect(options.status).toBe(200);
    expect(options.body.options.allowCredentials).toEqual([expect.objectContaining({ id: authenticator.credentials[0].id.toString('base64url') })]);
    const response = authenticator.get(options.body.options);
    const done = await t.http.post(
      '/auth/login/mfa',
      { mfaToken, method: 'passkey', challengeId: options.body.challengeId, response },
      { headers: { 'x-auth-mode': 'cookie' } },
    );
    expect(done.status).toBe(200);
    expect(done.body.refreshToken).toBeUndefined();
    expect(claimsOf(done.body.accessToken)).toMatchObject({ sub: user.id, amr: ['pwd', 'hwk', 'user', 'mfa'], acr: 'aal2' });
    // The mfaToken is used: nothing more with it.
    expect((await t.http.post('/auth/login/mfa/passkey-options', { mfaToken })).status).toBe(401);
  });

  it('refuses another user’s credential at the second step (better-auth PR #9203), and a challenge of another ceremony or sign-in', async () => {
    const victim = await newUser(t.http);
    const victimKey = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, victim.accessToken, victimKey);
    // The attacker knows the victim's password, and has a passkey of their own account.
    const attacker = await newUser(t.http);
    const attackerKey = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, attacker.accessToken, attackerKey);

    const { mfaToken } = await passwordStep(victim);
    const options = await t.http.post('/auth/login/mfa/passkey-options', { mfaToken });
    const foreign = attackerKey.get(options.body.options, { credential: attackerKey.credentials[0] });
    const refused = await t.http.post('/auth/login/mfa', { mfaToken, method: 'passkey', challengeId: options.body.challengeId, response: foreign });
    expect(refused.status).toBe(401);
    expect(refused.body.message).toBe(MFA_FAILED);

    // A usernameless sign-in's challenge answers no second step…
    const signInOptions = await t.http.post('/auth/passkeys/authentication/options', {});
    const wrongCeremony = victimKey.get({ ...signInOptions.body.options, rpId: 'localhost' });
    expect(
      (await t.http.post('/auth/login/mfa', { mfaToken, method: 'passkey', challengeId: signInOptions.body.challengeId, response: wrongCeremony })).status,
    ).toBe(401);
    // …nor another pending sign-in's (of the same user).
    const other = await passwordStep(victim);
    const otherOptions = await t.http.post('/auth/login/mfa/passkey-options', { mfaToken: other.mfaToken });
    const crossed = victimKey.get(otherOptions.body.options);
    expect((await t.http.post('/auth/login/mfa', { mfaToken, method: 'passkey', challengeId: otherOptions.body.challengeId, response: crossed })).status).toBe(
      401,
    );

    // The victim's own passkey on a fresh challenge of this pending sign-in still works (3 wrong steps < 5).
    const fresh = await t.http.post('/auth/login/mfa/passkey-options', { mfaToken });
    const ok = await t.http.post('/auth/login/mfa', {
      mfaToken,
      method: 'passkey',
      challengeId: fresh.body.challengeId,
      response: victimKey.get(fresh.body.options),
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(victim.id);
  });

  it('validates the step’s body by method: a passkey needs challengeId and response, a code method its code; passkey options need a live mfaToken', async () => {
    expect((await t.http.post('/auth/login/mfa', { mfaToken: 'x', method: 'passkey' })).body.message).toEqual([
      'challengeId is required',
      'response is required',
    ]);
    expect((await t.http.post('/auth/login/mfa', { mfaToken: 'x', method: 'totp' })).body.message).toEqual(['code is required']);
    expect((await t.http.post('/auth/login/mfa', { mfaToken: 'x', method: 'sms', code: '1' })).status).toBe(400);
    expect((await t.http.post('/auth/login/mfa/passkey-options', { mfaToken: 'unknown' })).status).toBe(401);
    expect((await t.http.post('/auth/login/mfa/passkey-options', {})).body.message).toEqual(['mfaToken is required']);
  });

  it('a user with TOTP and a passkey is offered both; the passkey is not offered to a pending sign-in without one', async () => {
    const user = await enrolledUser(t.http);
    const step = await awayFromStepEdge();
    const aal2 = (await t.http.post('/auth/reauthenticate', { method: 'totp', code: totpAt(user.secret, step) }, { token: user.accessToken })).body
      .accessToken as string;
    const { mfaToken: before } = await passwordStep(user);
    expect((await t.http.post('/auth/login/mfa/passkey-options', { mfaToken: before })).status).toBe(401);
    await registerPasskey(t.http, aal2, new SoftAuthenticator({ origin: ORIGIN }));
    expect((await passwordStep(user)).methods.sort()).toEqual(['passkey', 'recovery_code', 'totp']);
  });

  it('re-authenticates with a passkey: options with the bearer token list the user’s passkeys; same session, auth_time now; bound to the user', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await registerPasskey(t.http, user.accessToken, authenticator);
    // The registering session is aal1 and the user has a factor now: its password is not enough.
    expect((await t.http.post('/auth/reauthenticate', { password: user.password }, { token: user.accessToken })).status).toBe(401);
    const options = await t.http.post('/auth/passkeys/authentication/options', {}, { token: user.accessToken });
    expect(options.body.options.allowCredentials).toHaveLength(1);
    const response = authenticator.get(options.body.options);
    const res = await t.http.post('/auth/reauthenticate', { method: 'passkey', challengeId: options.body.challengeId, response }, { token: user.accessToken });
    expect(res.status).toBe(200);
    const claims = claimsOf(res.body.accessToken);
    expect(claims).toMatchObject({ sid: claimsOf(user.accessToken).sid, acr: 'aal2', amr: ['pwd', 'hwk', 'user', 'mfa'] });
    // Used: a replay is refused.
    expect(
      (await t.http.post('/auth/reauthenticate', { method: 'passkey', challengeId: options.body.challengeId, response }, { token: user.accessToken })).status,
    ).toBe(401);
    // Without a token the options are a sign-in's: they answer no re-authentication.
    const anonymous = await t.http.post('/auth/passkeys/authentication/options', {});
    const signInAnswer = authenticator.get({ ...anonymous.body.options, rpId: 'localhost' });
    expect(
      (
        await t.http.post(
          '/auth/reauthenticate',
          { method: 'passkey', challengeId: anonymous.body.challengeId, response: signInAnswer },
          { token: user.accessToken },
        )
      ).status,
    ).toBe(401);
    // Another user's re-authentication challenge is not this user's.
    const other = await newUser(t.http);
    const otherOptions = await t.http.post('/auth/passkeys/authentication/options', {}, { token: other.accessToken });
    const crossed = authenticator.get({ ...otherOptions.body.options, rpId: 'localhost', allowCredentials: [] });
    expect(
      (
        await t.http.post(
          '/auth/reauthenticate',
          { method: 'passkey', challengeId: otherOptions.body.challengeId, response: crossed },
          { token: user.accessToken },
        )
      ).status,
    ).toBe(401);
    // An invalid token on the options is a 401, not a silent sign-in.
    expect((await t.http.post('/auth/passkeys/authentication/options', {}, { token: 'not-a-token' })).status).toBe(401);
  });

  it('an admin’s reset removes the user’s passkeys too', async () => {
    const user = await newUser(t.http);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await userWithPasskey(t.http, user, authenticator);
    const admin = await newAdmin(t.http);
    expect((await t.http.request('DELETE', `/admin/users/${user.id}/mfa`, { token: admin.accessToken })).status).toBe(204);
    expect(await t.server.prisma.passkey.count({ where: { userId: user.id } })).toBe(0);
    expect((await passkeySignIn(t.http, authenticator)).res.status).toBe(401);
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).body.accessToken).toEqual(expect.any(String));
  });
});

describeOnPostgres('passkeys across instances (two apps, one database)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startApp(db);
    b = await startApp(db);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('a challenge issued by one instance is answered on the other, once', async () => {
    const httpA = new Http(a.baseUrl);
    const httpB = new Http(b.baseUrl);
    const user = await newUser(httpA);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const options = await httpA.post('/auth/passkeys/registration/options', undefined, { token: user.accessToken });
    const registered = await httpB.post(
      '/auth/passkeys/registration',
      { challengeId: options.body.challengeId, response: authenticator.create(options.body.options) },
      { token: user.accessToken },
    );
    expect(registered.status).toBe(201);
    const signIn = await httpB.post('/auth/passkeys/authentication/options', {});
    const body = { challengeId: signIn.body.challengeId, response: authenticator.get(signIn.body.options) };
    const res = await httpA.post('/auth/passkeys/authentication', body);
    expect(res.status).toBe(200);
    expect(claimsOf(res.body.accessToken)).toMatchObject({ sub: user.id, acr: 'aal2' });
    expect((await httpB.post('/auth/passkeys/authentication', body)).status).toBe(401);
    await passkeySignIn(httpB, authenticator);
  });
});
