import { fragmentOf } from '../support/oidc-provider-process';
import { newUser } from '../support/factories';
import { awayFromStepEdge, claimsOf, totpAt } from '../mfa/support';
import { browser, providerAccount, signedInWithProvider, useAppWithProvider } from './support';

describe('sign-in with another provider (OpenID Connect)', () => {
  const { t, idp } = useAppWithProvider();

  it('lists the providers: id and name only', async () => {
    const res = await t.http.get('/auth/providers');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        { id: 'spec', name: 'Spec Provider' },
        { id: 'down', name: 'Down' },
      ],
    });
    expect(res.text).not.toContain('secret');
  });

  it('creates an account at the first sign-in, and signs the same account in at the second', async () => {
    const { sub, email } = await providerAccount(idp());
    const first = await browser(t).signIn('spec', '/console');
    expect(first.status).toBe(302);
    expect(first.location).toBe('/console');
    expect(first.refreshCookie).toBeDefined();

    // The browser's refresh cookie is a session: the console refreshes with it.
    const refreshed = await t.http.post('/auth/refresh', {}, { headers: { 'x-auth-mode': 'cookie', cookie: `refresh_token=${first.refreshCookie}` } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.user).toMatchObject({ email, emailVerified: true, name: 'Provider Person' });
    const userId = refreshed.body.user.id;
    const claims = JSON.parse(Buffer.from(refreshed.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ amr: ['fed'], acr: 'aal1' });

    // No password: a password sign-in gets the one 401.
    expect((await t.http.post('/auth/login', { email, password: 'anything-at-all-1' })).status).toBe(401);

    await idp().next({ account: sub });
    const second = await browser(t).signIn('spec', '/console');
    const again = await t.http.post('/auth/refresh', {}, { headers: { 'x-auth-mode': 'cookie', cookie: `refresh_token=${second.refreshCookie}` } });
    expect(again.body.user.id).toBe(userId);

    const identities = await t.http.get('/auth/identities', { token: again.body.accessToken });
    expect(identities.body.items).toEqual([{ id: expect.any(String), provider: 'spec', email, createdAt: expect.any(String) }]);
    const audit = await t.server.prisma.auditEvent.findMany({
      where: { userId, type: { in: ['user.registered', 'identity.linked', 'login.succeeded'] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    expect(audit.map((e) => e.type)).toEqual(['user.registered', 'identity.linked', 'login.succeeded', 'login.succeeded']);
    expect(audit[2].data).toMatchObject({ provider: 'spec', amr: ['fed'] });
  });

  it('links an account that holds the email only when the provider and the account have both verified it', async () => {
    const user = await newUser(t.http);
    await t.server.prisma.user.update({ where: { id: user.id }, data: { emailVerified: true } });
    await providerAccount(idp(), { email: user.email.toUpperCase(), email_verified: true });
    const signedIn = await browser(t).signIn('spec', '/console');
    expect(signedIn.location).toBe('/console');
    const refreshed = await t.http.post('/auth/refresh', {}, { headers: { 'x-auth-mode': 'cookie', cookie: `refresh_token=${signedIn.refreshCookie}` } });
    expect(refreshed.body.user.id).toBe(user.id);
    // The password still works.
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).status).toBe(200);
  });

  it.each([
    ['the provider has not verified the email', true, false],
    ['the account has not verified its email', false, true],
  ])('refuses the takeover when %s: #error=account_exists, nothing linked, no session', async (_, accountVerified, providerVerified) => {
    const user = await newUser(t.http);
    if (accountVerified) await t.server.prisma.user.update({ where: { id: user.id }, data: { emailVerified: true } });
    await providerAccount(idp(), { email: user.email, email_verified: providerVerified });
    const refused = await browser(t).signIn('spec', '/console');
    expect(refused.status).toBe(302);
    expect(refused.location).toBe('/console#error=account_exists');
    expect(refused.refreshCookie).toBeUndefined();
    expect(await t.server.prisma.identity.count({ where: { userId: user.id } })).toBe(0);
    expect(t.server.logs()).toContain('Sign-in with spec failed: account_exists');
  });

  it('sends a user with a second factor to the second step: #mfaToken=…&methods=…, no session yet', async () => {
    const { email } = await providerAccount(idp());
    const first = await browser(t).signIn('spec');
    const user = await t.server.prisma.user.findUniqueOrThrow({ where: { email } });
    // A confirmed TOTP factor, as the MFA routes leave it (the secret's value does not matter here).
    await t.server.prisma.totpFactor.create({ data: { userId: user.id, secretSealed: Buffer.from('sealed'), confirmedAt: new Date() } });
    expect(first.refreshCookie).toBeDefined();

    const { subject } = await t.server.prisma.identity.findFirstOrThrow({ where: { userId: user.id } });
    await idp().next({ account: subject });
    const second = await browser(t).signIn('spec', '/console/sign-in');
    expect(second.status).toBe(302);
    expect(second.location.startsWith('/console/sign-in#')).toBe(true);
    const fragment = fragmentOf(second.location);
    expect(fragment).toEqual({ mfaToken: expect.any(String), methods: 'totp' });
    expect(second.refreshCookie).toBeUndefined();
    expect(await t.server.prisma.pendingSignIn.count({ where: { userId: user.id } })).toBe(1);
  });

  it('completes the second step of a provider sign-in with TOTP: amr fed, otp, mfa at aal2', async () => {
    const person = await signedInWithProvider(t, idp());
    const { secret } = (await t.http.post('/auth/mfa/totp', {}, { token: person.accessToken })).body;
    const step = await awayFromStepEdge();
    expect((await t.http.post('/auth/mfa/totp/confirm', { code: totpAt(secret, step) }, { token: person.accessToken })).status).toBe(200);

    await idp().next({ account: person.sub });
    const first = await browser(t).signIn('spec');
    const { mfaToken, methods } = fragmentOf(first.location);
    expect(methods.split(',').sort()).toEqual(['recovery_code', 'totp']);
    const second = await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: totpAt(secret, step + 1) });
    expect(second.status).toBe(200);
    expect(second.body.user.id).toBe(person.userId);
    expect(claimsOf(second.body.accessToken)).toMatchObject({ amr: ['fed', 'otp', 'mfa'], acr: 'aal2' });
  });

  it('signs in at aal2 without a second step when the provider says it did MFA (amr mfa)', async () => {
    const { email } = await providerAccount(idp());
    await browser(t).signIn('spec');
    const user = await t.server.prisma.user.findUniqueOrThrow({ where: { email } });
    await t.server.prisma.totpFactor.create({ data: { userId: user.id, secretSealed: Buffer.from('sealed'), confirmedAt: new Date() } });
    const { subject } = await t.server.prisma.identity.findFirstOrThrow({ where: { userId: user.id } });
    await idp().next({ account: subject, amr: ['pwd', 'otp', 'mfa'] });
    const signedIn = await browser(t).signIn('spec');
    expect(signedIn.location).toBe('/console');
    const refreshed = await t.http.post('/auth/refresh', {}, { headers: { 'x-auth-mode': 'cookie', cookie: `refresh_token=${signedIn.refreshCookie}` } });
    const claims = JSON.parse(Buffer.from(refreshed.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ amr: ['fed', 'mfa'], acr: 'aal2' });
  });

  it('answers a declined consent with #error=access_denied', async () => {
    await idp().next({ deny: true });
    const denied = await browser(t).signIn('spec', '/console');
    expect(denied).toMatchObject({ status: 302, location: '/console#error=access_denied' });
    expect(t.server.logs()).toContain('Sign-in with spec failed: access_denied');
  });

  it('answers a provider it cannot discover with #error=provider_unavailable at the start, not a 500', async () => {
    const res = await browser(t).start('down', '/console');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console#error=provider_unavailable');
    expect(t.server.logs()).toContain('Sign-in with down failed: provider_unavailable (discovery');
  });

  it('refuses a redirect outside APP_URL and CORS_ORIGINS with 400, and an unknown provider with 404', async () => {
    for (const redirect of ['https://evil.example', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '']) {
      const res = await t.http.get(`/auth/oidc/spec/start?redirect=${encodeURIComponent(redirect)}`);
      expect([redirect, res.status]).toEqual([redirect, 400]);
    }
    expect((await t.http.get('/auth/oidc/spec/start')).status).toBe(400);
    const own = await browser(t).start('spec', `${new URL(t.server.config.app.url).origin}/console`);
    expect(own.status).toBe(302);
    expect(own.headers.get('location')).toMatch(new RegExp(`^${idp().issuer}/`));
    expect((await t.http.get('/auth/oidc/nope/start?redirect=/')).status).toBe(404);
  });
});

describe('sign-in with another provider when registration is closed', () => {
  const { t, idp } = useAppWithProvider({ REGISTRATION_ENABLED: 'false' });

  it('makes no account (#error=registration_closed), and still links and signs in an account that holds the verified email', async () => {
    await providerAccount(idp());
    expect(await browser(t).signIn('spec', '/console')).toMatchObject({ status: 302, location: '/console#error=registration_closed' });
    expect(await t.server.prisma.user.count()).toBe(0);

    // An account an admin made (admin:create, an invitation): verified, so the verified email links it.
    const user = await t.server.prisma.user.create({ data: { email: 'made-by-an-admin@example.org', emailVerified: true, passwordHash: null } });
    await providerAccount(idp(), { email: user.email });
    expect(await browser(t).signIn('spec', '/console')).toMatchObject({ status: 302, location: '/console', refreshCookie: expect.any(String) });
    expect(await t.server.prisma.identity.count({ where: { userId: user.id } })).toBe(1);
  });
});
