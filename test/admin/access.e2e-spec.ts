import { ADMIN_ENV, newAdmin, newUser, type TestUser } from '../support/factories';
import { useMailCatcher } from '../support/mail-catcher';
import { useApp } from '../support/test-app';

describe('/admin/*: role ADMIN only (401 without a valid token, 403 for USER)', () => {
  // Mail on: the routes that exist to send one (an admin's reset, invitations) answer 503 without it.
  const env: Record<string, string> = { ...ADMIN_ENV };
  useMailCatcher(env);
  const t = useApp(env);

  /** The signing key of a token (header `kid`). */
  const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;
  /**
   * Every admin route of API.md; the last test proves the list is the whole /admin API.
   * The key revoked last is the one signing now (the rotation before it gives it a successor):
   * it ends the caller's token too, so the clients' routes come before it.
   */
  const none = '00000000-0000-4000-8000-000000000000';
  const adminRoutes = (target: TestUser, kid = kidOf(target.accessToken), clientId = none, webhook = { id: none, deliveryId: '1' }, invitationId = none) => [
    { method: 'GET', path: '/admin/users', ok: 200 },
    { method: 'GET', path: `/admin/users/${target.id}/sessions`, ok: 200 },
    { method: 'PATCH', path: `/admin/users/${target.id}`, body: { role: 'ADMIN' }, ok: 200 },
    { method: 'DELETE', path: `/admin/sessions/${target.sessionId}`, ok: 204 },
    { method: 'POST', path: `/admin/users/${target.id}/force-logout`, ok: 204 },
    { method: 'DELETE', path: `/admin/users/${target.id}/mfa`, ok: 204 },
    { method: 'POST', path: `/admin/users/${target.id}/password-reset`, ok: 202 },
    { method: 'DELETE', path: `/admin/users/${target.id}`, ok: 204 },
    { method: 'POST', path: '/admin/invitations', body: { email: 'access-spec@example.com' }, ok: 201 },
    { method: 'GET', path: '/admin/invitations', ok: 200 },
    { method: 'DELETE', path: `/admin/invitations/${invitationId}`, ok: 204 },
    { method: 'GET', path: '/admin/audit', ok: 200 },
    { method: 'GET', path: '/admin/outbox', ok: 200 },
    { method: 'POST', path: '/admin/clients', body: { name: 'access-spec' }, ok: 201 },
    { method: 'GET', path: '/admin/clients', ok: 200 },
    { method: 'POST', path: `/admin/clients/${clientId}/secret`, ok: 201 },
    { method: 'DELETE', path: `/admin/clients/${clientId}`, ok: 204 },
    { method: 'POST', path: '/admin/webhooks', body: { url: 'https://example.com/access-spec', events: ['user.disabled'] }, ok: 201 },
    { method: 'GET', path: '/admin/webhooks', ok: 200 },
    { method: 'PATCH', path: `/admin/webhooks/${webhook.id}`, body: { description: 'access spec' }, ok: 200 },
    { method: 'POST', path: `/admin/webhooks/${webhook.id}/secret`, ok: 201 },
    { method: 'GET', path: `/admin/webhooks/${webhook.id}/deliveries`, ok: 200 },
    { method: 'POST', path: `/admin/webhooks/${webhook.id}/deliveries/${webhook.deliveryId}/retry`, ok: 202 },
    { method: 'DELETE', path: `/admin/webhooks/${webhook.id}`, ok: 204 },
    { method: 'GET', path: '/admin/keys', ok: 200 },
    { method: 'POST', path: '/admin/keys/rotate', ok: 201 },
    { method: 'DELETE', path: `/admin/keys/${kid}`, ok: 204 },
  ];
  const call = (route: { method: string; path: string; body?: unknown }, token?: string) =>
    t.http.request(route.method, route.path, { token, body: route.body });

  it('refuses an anonymous caller, and a garbage or refresh token, with 401 on every route; nothing changes', async () => {
    const target = await newUser(t.http);
    for (const route of adminRoutes(target)) {
      for (const token of [undefined, 'garbage', target.refreshToken]) {
        const res = await call(route, token);
        expect([route.method, route.path, res.status]).toEqual([route.method, route.path, 401]);
      }
    }
    await expectUntouched(target);
  });

  it('refuses a USER with 403 on every route, even for their own id; nothing changes', async () => {
    const user = await newUser(t.http);
    for (const target of [await newUser(t.http), user]) {
      for (const route of adminRoutes(target)) {
        const res = await call(route, user.accessToken);
        expect([route.method, route.path, res.status, res.body.message]).toEqual([route.method, route.path, 403, 'Insufficient role']);
      }
      await expectUntouched(target);
    }
  });

  it('lets the admin through on every route', async () => {
    const admin = await newAdmin(t.http);
    const target = await newUser(t.http);
    const client = await t.http.post('/admin/clients', { name: 'rotated then deleted' }, { token: admin.accessToken });
    // A webhook with a delivery to retry: to a loopback address, refused (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off), so nothing connects anywhere.
    const webhook = await t.http.post('/admin/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['user.role_changed'] }, { token: admin.accessToken });
    await t.http.patch(`/admin/users/${(await newUser(t.http)).id}`, { role: 'ADMIN' }, { token: admin.accessToken });
    const [delivery] = (await t.http.get(`/admin/webhooks/${webhook.body.id}/deliveries`, { token: admin.accessToken })).body.items;
    const invitation = await t.http.post('/admin/invitations', { email: 'revoked-by-access-spec@example.com' }, { token: admin.accessToken });
    for (const route of adminRoutes(target, undefined, client.body.id, { id: webhook.body.id, deliveryId: delivery.id }, invitation.body.id)) {
      const res = await call(route, admin.accessToken);
      expect([route.method, route.path, res.status]).toEqual([route.method, route.path, route.ok]);
    }
  });

  it('documents every admin route, /auth/sessions and /auth/password in /docs-json, and no other admin route exists', async () => {
    const docs = await t.http.get('/docs-json');
    const documented = Object.entries(docs.body.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const adminDocumented = documented.filter((route) => route.includes(' /admin')).sort();
    const expected = adminRoutes({ id: '{id}', sessionId: '{id}' } as TestUser, '{kid}', '{id}', { id: '{id}', deliveryId: '{deliveryId}' }, '{id}').map(
      (r) => `${r.method} ${r.path}`,
    );
    expect(adminDocumented).toEqual(expected.sort());
    expect(documented).toEqual(expect.arrayContaining(['GET /auth/sessions', 'DELETE /auth/sessions/{id}', 'POST /auth/password']));
    const patch = docs.body.paths['/admin/users/{id}'].patch;
    expect(patch.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
  });

  async function expectUntouched(target: TestUser) {
    expect((await t.http.get('/auth/me', { token: target.accessToken })).body.role).toBe('USER');
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: target.id }, include: { sessions: true } });
    expect(row.role).toBe('USER');
    expect(row.refreshTokenVersion).toBe(0);
    expect(row.sessions.every((s) => s.revokedAt === null)).toBe(true);
  }
});
