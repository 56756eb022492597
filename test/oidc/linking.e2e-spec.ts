import { ADMIN_ENV, newAdmin, newUser, type TestUser } from '../support/factories';
import type { AppUnderTest } from '../support/test-app';
import { browser, providerAccount, signedInWithProvider, useAppWithProvider } from './support';

/** The same session with its auth_time an hour ago: no longer "recent". */
async function staleToken(t: AppUnderTest, user: TestUser): Promise<string> {
  await t.server.prisma.session.update({ where: { id: user.sessionId }, data: { authTime: new Date(Date.now() - 3_600_000) } });
  return (await t.http.post('/auth/refresh', { refreshToken: user.refreshToken })).body.accessToken;
}

describe('linking and unlinking providers', () => {
  const { t, idp } = useAppWithProvider(ADMIN_ENV);

  /** POST /auth/oidc/spec/link from a browser, then the provider: our callback's answer. */
  async function link(token: string, redirect = '/console/account') {
    const b = browser(t);
    const asked = await b.post('/auth/oidc/spec/link', { redirect }, token);
    expect(asked.status).toBe(200);
    return b.callback(await b.toCallback(asked.body.url));
  }

  it('links a provider to the signed-in account (any email), which then signs that account in; audited and sent to webhooks', async () => {
    const admin = await newAdmin(t.http);
    const hook = await t.http.post(
      '/admin/webhooks',
      { url: 'https://hooks.example.com/in', events: ['identity.linked', 'identity.unlinked'] },
      { token: admin.accessToken },
    );
    expect(hook.status).toBe(201);

    const user = await newUser(t.http);
    const { sub } = await providerAccount(idp(), { email: 'someone-else@example.org', email_verified: false });
    const linked = await link(user.accessToken);
    expect(linked).toMatchObject({ status: 302, location: '/console/account#linked=spec' });
    // Linking opens no session.
    expect(linked.refreshCookie).toBeUndefined();

    const identities = await t.http.get('/auth/identities', { token: user.accessToken });
    expect(identities.body.items).toEqual([{ id: expect.any(String), provider: 'spec', email: 'someone-else@example.org', createdAt: expect.any(String) }]);
    const audit = await t.server.prisma.auditEvent.findFirstOrThrow({ where: { userId: user.id, type: 'identity.linked' } });
    expect(audit).toMatchObject({ actorId: user.id, sessionId: user.sessionId, data: { provider: 'spec', via: 'session' } });
    const queued = await t.server.prisma.outboxDelivery.findMany({ where: { kind: 'webhook', eventType: 'identity.linked' } });
    expect(queued).toHaveLength(1);

    await idp().next({ account: sub });
    const signedIn = await browser(t).signIn('spec');
    const refreshed = await t.http.post('/auth/refresh', {}, { headers: { 'x-auth-mode': 'cookie', cookie: `refresh_token=${signedIn.refreshCookie}` } });
    expect(refreshed.body.user.id).toBe(user.id);
  });

  it('refuses to link an identity that another account holds (#error=identity_in_use), and a stale token (401, recent)', async () => {
    const holder = await signedInWithProvider(t, idp());
    const user = await newUser(t.http);
    await idp().next({ account: holder.sub });
    expect(await link(user.accessToken)).toMatchObject({ status: 302, location: '/console/account#error=identity_in_use' });
    expect((await t.http.get('/auth/identities', { token: user.accessToken })).body.items).toEqual([]);

    const stale = await staleToken(t, user);
    const res = await t.http.post('/auth/oidc/spec/link', {}, { token: stale });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_user_authentication');
    expect((await t.http.post('/auth/oidc/nope/link', {}, { token: user.accessToken })).status).toBe(404);
    expect((await t.http.post('/auth/oidc/spec/link', { redirect: 'https://evil.example/' }, { token: user.accessToken })).status).toBe(400);
  });

  it('links nothing when the session that asked has ended meanwhile (#error=session_ended)', async () => {
    const user = await newUser(t.http);
    await providerAccount(idp());
    const b = browser(t);
    const asked = await b.post('/auth/oidc/spec/link', {}, user.accessToken);
    const callback = await b.toCallback(asked.body.url);
    expect((await t.http.post('/auth/logout', {}, { token: user.accessToken })).status).toBe(204);
    expect(await b.callback(callback)).toMatchObject({ status: 302, location: '/#error=session_ended' });
    expect(await t.server.prisma.identity.count({ where: { userId: user.id } })).toBe(0);
  });

  it('unlinks a provider from an account that has a password', async () => {
    const user = await newUser(t.http);
    await providerAccount(idp());
    await link(user.accessToken);
    const [identity] = (await t.http.get('/auth/identities', { token: user.accessToken })).body.items;
    expect((await t.http.delete(`/auth/identities/${identity.id}`, { token: user.accessToken })).status).toBe(204);
    expect((await t.http.get('/auth/identities', { token: user.accessToken })).body.items).toEqual([]);
    const audit = await t.server.prisma.auditEvent.findFirstOrThrow({ where: { userId: user.id, type: 'identity.unlinked' } });
    expect(audit.data).toMatchObject({ identityId: identity.id, provider: 'spec' });
    expect((await t.http.delete(`/auth/identities/${identity.id}`, { token: user.accessToken })).status).toBe(404);
  });

  it('refuses (409) to unlink the last way to sign in of an account without a password; another identity lets one go', async () => {
    const person = await signedInWithProvider(t, idp());
    const [only] = (await t.http.get('/auth/identities', { token: person.accessToken })).body.items;
    const refused = await t.http.delete(`/auth/identities/${only.id}`, { token: person.accessToken });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('last way to sign in');
    expect(await t.server.prisma.identity.count({ where: { userId: person.userId } })).toBe(1);

    // A second account at the provider, linked from this session: now either can go, not both.
    await providerAccount(idp(), { email: 'second-account@example.org' });
    expect((await link(person.accessToken)).location).toBe('/console/account#linked=spec');
    const both = (await t.http.get('/auth/identities', { token: person.accessToken })).body.items;
    expect(both).toHaveLength(2);
    expect((await t.http.delete(`/auth/identities/${both[0].id}`, { token: person.accessToken })).status).toBe(204);
    expect((await t.http.delete(`/auth/identities/${both[1].id}`, { token: person.accessToken })).status).toBe(409);
  });

  it("answers 404 for another user's identity and a malformed id", async () => {
    const other = await signedInWithProvider(t, idp());
    const [theirs] = (await t.http.get('/auth/identities', { token: other.accessToken })).body.items;
    const user = await newUser(t.http);
    expect((await t.http.delete(`/auth/identities/${theirs.id}`, { token: user.accessToken })).status).toBe(404);
    expect((await t.http.delete('/auth/identities/not-a-uuid', { token: user.accessToken })).status).toBe(404);
    expect(await t.server.prisma.identity.count({ where: { id: theirs.id } })).toBe(1);
  });

  it('needs a bearer token for the identities and link routes', async () => {
    expect((await t.http.get('/auth/identities')).status).toBe(401);
    expect((await t.http.post('/auth/oidc/spec/link', {})).status).toBe(401);
  });
});
