import { ACCOUNT_EXISTS, INVALID_INVITATION } from '../../src/auth/lifecycle/invitations.service';
import { ACCOUNT_DISABLED } from '../../src/auth/recovery/recovery.service';
import { MAIL_NOT_CONFIGURED } from '../../src/mail/mail.service';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { useApp } from '../support/test-app';

const fresh = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

describe('Invitations: POST /admin/invitations, list, revoke, POST /auth/invitations/accept (API.md, "Account lifecycle")', () => {
  // Public sign-up closed: invitations are the way in.
  const env: Record<string, string> = { ...ADMIN_ENV, REGISTRATION_ENABLED: 'false', RATE_LIMIT_MAIL: '0', INVITATION_TTL: '2d' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);
  let admin: TestUser;

  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  const invite = (body: unknown, token = admin.accessToken) => t.http.post('/admin/invitations', body, { token });
  const accept = (body: unknown, headers: Record<string, string> = {}) => t.http.post('/auth/invitations/accept', body, { headers });
  const invitationLink = async (email: string, n = 1) => linkIn(await smtp.nth(email, 'accept-invite', n), 'accept-invite');

  it('invites with a role; the link makes the account with that role, verified, with its first session, although registration is closed; once only', async () => {
    const email = fresh('invited');
    expect((await t.http.post('/auth/register', { email, password: 'a long passphrase' })).status).toBe(403);

    const before = Date.now();
    const res = await invite({ email: email.toUpperCase(), role: 'ADMIN' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), email, role: 'ADMIN', expiresAt: expect.any(String) });
    const ttl = Date.parse(res.body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(2 * 86_400_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * 86_400_000 + 60_000);
    const mail = await smtp.nth(email, 'accept-invite');
    const { link, token } = linkIn(mail, 'accept-invite');
    expect(link).toBe(`${t.server.config.app.url}/accept-invite#token=${token}`);

    const accepted = await accept({ token, password: 'my own passphrase', name: 'Invited Admin' });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({
      tokenType: 'Bearer',
      refreshToken: expect.any(String),
      user: { email, role: 'ADMIN', emailVerified: true, name: 'Invited Admin' },
    });
    expect((await t.http.get('/admin/users', { token: accepted.body.accessToken })).status).toBe(200);
    expect((await t.http.post('/auth/login', { email, password: 'my own passphrase' })).status).toBe(200);
    expect((await accept({ token, password: 'another passphrase' })).body).toEqual({ statusCode: 400, message: INVALID_INVITATION, error: 'Bad Request' });

    const invited = await t.server.prisma.auditEvent.findMany({ where: { type: 'user.invited', actorId: admin.id } });
    expect(invited.map((e) => e.data)).toContainEqual({ invitationId: res.body.id, email, role: 'ADMIN' });
    const [registered] = await t.server.prisma.auditEvent.findMany({ where: { type: 'user.registered', userId: accepted.body.user.id } });
    expect(registered).toMatchObject({ actorId: admin.id, data: { invitationId: res.body.id, role: 'ADMIN' } });
    expect(t.server.logs()).not.toContain(token);
  });

  it('role defaults to USER; the cookie transport works as at sign-in', async () => {
    const email = fresh('cookie');
    expect((await invite({ email })).body.role).toBe('USER');
    const { token } = await invitationLink(email);
    const res = await accept({ token, password: 'my own passphrase' }, { 'X-Auth-Mode': 'cookie' });
    expect(res.status).toBe(201);
    expect(res.body.refreshToken).toBeUndefined();
    expect(res.body.user).toMatchObject({ role: 'USER', emailVerified: true });
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly/);
  });

  it('409 when an account holds the address; 400 for a bad body; 401 without a token', async () => {
    expect((await invite({ email: admin.email })).body).toEqual({ statusCode: 409, message: ACCOUNT_EXISTS, error: 'Conflict' });
    expect((await invite({ email: 'nope' })).status).toBe(400);
    expect((await invite({ email: fresh('x'), role: 'ROOT' })).body.message).toEqual(['role must be one of: USER, ADMIN']);
    const user = await t.http.post('/auth/invitations/accept', {});
    expect(user.body.message).toEqual(expect.arrayContaining(['token is required', 'password is required']));
    expect((await t.http.post('/admin/invitations', { email: fresh('anon') })).status).toBe(401);
  });

  it('lists pending invitations; a revoked, superseded or expired one no longer works', async () => {
    const revoked = fresh('revoked');
    const expired = fresh('expired');
    const resent = fresh('resent');
    const first = await invite({ email: revoked });
    await invite({ email: expired });
    await invite({ email: resent });
    await invite({ email: resent, role: 'ADMIN' });

    const list = await t.http.get('/admin/invitations', { token: admin.accessToken });
    expect(list.status).toBe(200);
    const listed = list.body.filter((i: { email: string }) => [revoked, expired, resent].includes(i.email));
    expect(listed.map((i: { email: string; role: string }) => [i.email, i.role]).sort()).toEqual(
      [
        [expired, 'USER'],
        [resent, 'ADMIN'],
        [revoked, 'USER'],
      ].sort(),
    );
    expect(listed[0]).toEqual({
      id: expect.any(String),
      email: expect.any(String),
      role: expect.any(String),
      expiresAt: expect.any(String),
      createdAt: expect.any(String),
      invitedBy: admin.id,
    });

    expect((await t.http.delete(`/admin/invitations/${first.body.id}`, { token: admin.accessToken })).status).toBe(204);
    expect((await t.http.delete(`/admin/invitations/${first.body.id}`, { token: admin.accessToken })).status).toBe(404);
    expect((await accept({ token: (await invitationLink(revoked)).token, password: 'my own passphrase' })).body.message).toBe(INVALID_INVITATION);

    await t.server.prisma.invitation.updateMany({ where: { email: expired }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await accept({ token: (await invitationLink(expired)).token, password: 'my own passphrase' })).body.message).toBe(INVALID_INVITATION);

    // The first link to `resent` was replaced by the second.
    expect((await accept({ token: (await invitationLink(resent, 1)).token, password: 'my own passphrase' })).body.message).toBe(INVALID_INVITATION);
    expect((await accept({ token: (await invitationLink(resent, 2)).token, password: 'my own passphrase' })).body.user.role).toBe('ADMIN');

    const emails = (await t.http.get('/admin/invitations', { token: admin.accessToken })).body.map((i: { email: string }) => i.email);
    expect(emails).not.toEqual(expect.arrayContaining([revoked]));
    expect(emails).not.toContain(expired);
    expect(emails).not.toContain(resent);
  });

  it('an account made under the address after the invitation: accepting is a 400', async () => {
    const email = fresh('raced');
    await invite({ email });
    const { token } = await invitationLink(email);
    await t.server.prisma.user.create({ data: { email, passwordHash: 'x' } });
    expect((await accept({ token, password: 'my own passphrase' })).body).toEqual({ statusCode: 400, message: ACCOUNT_EXISTS, error: 'Bad Request' });
  });
});

describe("An admin's reset: POST /admin/users/:id/password-reset", () => {
  const env: Record<string, string> = { ...ADMIN_ENV, RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);

  it('202: the user gets a reset link; no session ends until it is used; then every session ends', async () => {
    const admin = await newAdmin(t.http);
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    const res = await t.http.post(`/admin/users/${user.id}/password-reset`, undefined, { token: admin.accessToken });
    expect([res.status, res.text]).toEqual([202, '{}']);
    const { token } = linkIn(await smtp.nth(user.email, 'reset-password'), 'reset-password');
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect((await t.http.post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(200);

    expect((await t.http.post('/auth/password/reset', { token, newPassword: 'a new passphrase' })).status).toBe(204);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    const [event] = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: 'password.reset_requested' } });
    expect(event).toMatchObject({ actorId: admin.id, data: { by: 'admin' } });
  });

  it('404 for no such user, 409 for a disabled one, 403 for a non-admin', async () => {
    const admin = await newAdmin(t.http);
    const user = await newUser(t.http);
    expect((await t.http.post('/admin/users/00000000-0000-4000-8000-000000000000/password-reset', undefined, { token: admin.accessToken })).status).toBe(404);
    expect((await t.http.post(`/admin/users/${user.id}/password-reset`, undefined, { token: user.accessToken })).status).toBe(403);
    await t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken });
    expect((await t.http.post(`/admin/users/${user.id}/password-reset`, undefined, { token: admin.accessToken })).body).toEqual({
      statusCode: 409,
      message: ACCOUNT_DISABLED,
      error: 'Conflict',
    });
  });
});

describe('Mail off: the admin reset and invitations answer 503', () => {
  const t = useApp(ADMIN_ENV);

  it('503 with the mail message', async () => {
    const admin = await newAdmin(t.http);
    const user = await newUser(t.http);
    const reset = await t.http.post(`/admin/users/${user.id}/password-reset`, undefined, { token: admin.accessToken });
    expect([reset.status, reset.body.message]).toEqual([503, MAIL_NOT_CONFIGURED]);
    const invitation = await t.http.post('/admin/invitations', { email: fresh('nomail') }, { token: admin.accessToken });
    expect([invitation.status, invitation.body.message]).toEqual([503, MAIL_NOT_CONFIGURED]);
  });
});
