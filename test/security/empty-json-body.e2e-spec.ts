import { randomUUID } from 'node:crypto';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { useApp } from '../support/test-app';
import { expectError } from './support';

/**
 * `Content-Type: application/json` with no body at all is what many HTTP clients send on
 * every POST by default. It is no body: a route that reads none answers as it does
 * without the header, and a route that needs one says which fields are missing, as it
 * does for a request without any body.
 */
describe('an empty body sent as application/json', () => {
  const t = useApp(ADMIN_ENV);
  let admin: TestUser;

  /** The request those clients send: the header, and zero bytes. */
  const empty = (method: string, path: string, token?: string, headers: Record<string, string> = {}) =>
    t.http.request(method, path, { body: '', token, headers: { 'content-type': 'application/json', ...headers } });

  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  it('on the routes that read no body: their usual success', async () => {
    const user = await newUser(t.http);
    const second = await newSession(t.http, user);
    const third = await newSession(t.http, user);
    const client = await t.http.post('/admin/clients', { name: 'empty-body' }, { token: admin.accessToken });
    const webhook = await t.http.post('/admin/webhooks', { url: 'https://hooks.example.com/in', events: ['user.disabled'] }, { token: admin.accessToken });
    expect([client.status, webhook.status]).toEqual([201, 201]);

    const statuses: Array<[string, number]> = [];
    const call = async (method: string, path: string, token: string) => statuses.push([`${method} ${path}`, (await empty(method, path, token)).status]);
    await call('DELETE', `/auth/sessions/${third.sessionId}`, user.accessToken);
    await call('POST', '/auth/logout', second.accessToken);
    await call('POST', '/auth/logout-all', user.accessToken);
    await call('POST', `/admin/users/${user.id}/force-logout`, admin.accessToken);
    const victim = await newUser(t.http);
    await call('DELETE', `/admin/sessions/${victim.sessionId}`, admin.accessToken);
    await call('POST', '/admin/keys/rotate', admin.accessToken);
    await call('POST', `/admin/clients/${client.body.id}/secret`, admin.accessToken);
    await call('DELETE', `/admin/clients/${client.body.id}`, admin.accessToken);
    await call('POST', `/admin/webhooks/${webhook.body.id}/secret`, admin.accessToken);
    await call('DELETE', `/admin/webhooks/${webhook.body.id}`, admin.accessToken);

    expect(statuses).toEqual([
      [`DELETE /auth/sessions/${third.sessionId}`, 204],
      ['POST /auth/logout', 204],
      ['POST /auth/logout-all', 204],
      [`POST /admin/users/${user.id}/force-logout`, 204],
      [`DELETE /admin/sessions/${victim.sessionId}`, 204],
      ['POST /admin/keys/rotate', 201],
      [`POST /admin/clients/${client.body.id}/secret`, 201],
      [`DELETE /admin/clients/${client.body.id}`, 204],
      [`POST /admin/webhooks/${webhook.body.id}/secret`, 201],
      [`DELETE /admin/webhooks/${webhook.body.id}`, 204],
    ]);
    expect((await t.http.get('/auth/me', { token: victim.accessToken })).status).toBe(401);
  });

  it('an unknown delivery to retry: its 404, not a 400 about the body', async () => {
    const webhook = await t.http.post('/admin/webhooks', { url: 'https://hooks.example.com/in', events: ['user.disabled'] }, { token: admin.accessToken });
    const res = await empty('POST', `/admin/webhooks/${webhook.body.id}/deliveries/${randomUUID()}/retry`, admin.accessToken);
    expect(res.status).toBe(404);
  });

  it('refresh and revoke in cookie mode (the cookie is the token): 200', async () => {
    const user = await newUser(t.http);
    const COOKIE = { 'x-auth-mode': 'cookie' };
    const login = await t.http.post('/auth/login', { email: user.email, password: user.password }, { headers: COOKIE });
    const cookieOf = (headers: Headers) =>
      headers
        .getSetCookie()
        .find((c) => c.startsWith('refresh_token='))!
        .split(';')[0];
    const refreshed = await empty('POST', '/auth/refresh', undefined, { ...COOKIE, cookie: cookieOf(login.headers) });
    expect(refreshed.status).toBe(200);
    const revoked = await empty('POST', '/auth/revoke', undefined, { ...COOKIE, cookie: cookieOf(refreshed.headers) });
    expect(revoked.status).toBe(200);
    expect((await t.http.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(401);
  });

  it('on the routes that need a body: 400 naming what is missing, as without any body', async () => {
    const user = await newUser(t.http);
    for (const [path, token] of [
      ['/auth/login', undefined],
      ['/auth/register', undefined],
      ['/auth/password', user.accessToken],
      ['/auth/revoke', undefined],
      ['/auth/password/reset', undefined],
      ['/admin/clients', admin.accessToken],
    ] as const) {
      const withHeader = await empty('POST', path, token);
      const without = await t.http.request('POST', path, { token });
      expectError(withHeader, 400);
      expect([path, withHeader.body.message]).toEqual([path, without.body.message]);
    }
    const login = await empty('POST', '/auth/login');
    expect(login.body.message).toEqual(['email is required', 'password is required']);
    expectError(await empty('POST', '/auth/refresh'), 401);
    const patch = await empty('PATCH', `/admin/users/${user.id}`, admin.accessToken);
    expect(patch.status).toBe((await t.http.request('PATCH', `/admin/users/${user.id}`, { token: admin.accessToken })).status);
  });

  it('a body of whitespace is still not JSON: 400', async () => {
    const res = await t.http.request('POST', '/auth/logout', {
      body: ' ',
      token: (await newUser(t.http)).accessToken,
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 400);
    expect(res.body.message).toBe('Request body is not valid JSON');
  });
});
