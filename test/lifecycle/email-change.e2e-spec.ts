import { EMAIL_TAKEN } from '../../src/auth/auth.service';
import { EMAIL_TAKEN_MEANWHILE, SAME_EMAIL } from '../../src/auth/lifecycle/email-change.service';
import { INVALID_LINK } from '../../src/auth/recovery/recovery.service';
import { MAIL_NOT_CONFIGURED } from '../../src/mail/mail.service';
import { newSession, newUser, type TestUser } from '../support/factories';
import { addressesOf, linkIn, useMailCatcher } from '../support/mail-catcher';
import { useApp, type AppUnderTest } from '../support/test-app';
import { waitFor } from '../support/wait';

/** The session's last authentication an hour back, then a refresh: a token that is not recent. */
async function staleToken(t: AppUnderTest, user: TestUser): Promise<string> {
  await t.server.prisma.session.update({ where: { id: user.sessionId }, data: { authTime: new Date(Date.now() - 3_600_000) } });
  const res = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
  expect(res.status).toBe(200);
  return res.body.accessToken;
}

describe('Email change: POST /auth/email/change and /confirm (API.md, "Account lifecycle")', () => {
  const env: Record<string, string> = { RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);

  const change = (token: string, newEmail: unknown) => t.http.post('/auth/email/change', { newEmail }, { token });
  const confirm = (token: string) => t.http.post('/auth/email/change/confirm', { token });
  const fresh = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

  it('mails a link to the new address and a notice to the old; the link moves the account, verified; every other session ends; once only', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    const newEmail = fresh('moved');

    const res = await change(user.accessToken, newEmail);
    expect([res.status, res.text]).toEqual([202, '{}']);
    const mail = await smtp.nth(newEmail, 'confirm-email');
    expect(mail.subject).toBe('Confirm your new email address');
    const { link, token } = linkIn(mail, 'confirm-email');
    expect(link).toBe(`${t.server.config.app.url}/confirm-email#token=${token}`);
    await waitFor('the notice to the old address', () => smtp.mails.some((m) => addressesOf(m).includes(user.email) && (m.text ?? '').includes(newEmail)));
    // Nothing changed yet: the account keeps its address until the link is opened.
    expect((await t.http.get('/auth/me', { token: user.accessToken })).body.email).toBe(user.email);

    expect((await confirm(token)).status).toBe(204);
    const me = await t.http.get('/auth/me', { token: user.accessToken });
    expect(me.body).toMatchObject({ email: newEmail, emailVerified: true });
    // The session that asked goes on; the other one has ended, its access and refresh tokens refused.
    expect((await t.http.get('/auth/me', { token: other.accessToken })).status).toBe(401);
    expect((await t.http.post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(401);
    // The old address signs in no more; the new one does.
    expect((await t.http.post('/auth/login', { email: user.email, password: user.password })).status).toBe(401);
    expect((await t.http.post('/auth/login', { email: newEmail.toUpperCase(), password: user.password })).status).toBe(200);

    expect((await confirm(token)).body).toEqual({ statusCode: 400, message: INVALID_LINK, error: 'Bad Request' });
    const events = await t.server.prisma.auditEvent.findMany({
      where: { userId: user.id, type: { in: ['email.change_requested', 'email.changed'] } },
      orderBy: { id: 'asc' },
    });
    expect(events).toMatchObject([
      { type: 'email.change_requested', actorId: user.id, sessionId: user.sessionId },
      { type: 'email.changed', actorId: user.id, sessionId: user.sessionId, data: { otherSessionsEnded: 1 } },
    ]);
    expect(t.server.logs()).not.toContain(token);
  });

  it('409 for an address taken under the normal form; 400 for the current address or a bad body', async () => {
    const user = await newUser(t.http);
    const holder = await newUser(t.http);
    expect((await change(user.accessToken, ` ${holder.email.toUpperCase()} `)).body).toEqual({ statusCode: 409, message: EMAIL_TAKEN, error: 'Conflict' });
    expect((await change(user.accessToken, user.email)).body.message).toEqual([SAME_EMAIL]);
    expect((await change(user.accessToken, 'not an address')).body.message).toEqual(['newEmail must be an email address']);
    expect((await t.http.post('/auth/email/change', {}, { token: user.accessToken })).body.message).toEqual(['newEmail is required']);
    expect(smtp.to(holder.email, 'confirm-email')).toEqual([]);
  });

  it('an address taken after the link was sent is refused at confirm (400), and the account keeps its own', async () => {
    const user = await newUser(t.http);
    const wanted = fresh('wanted');
    expect((await change(user.accessToken, wanted)).status).toBe(202);
    const { token } = linkIn(await smtp.nth(wanted, 'confirm-email'), 'confirm-email');
    await newUser(t.http, { email: wanted });

    expect((await confirm(token)).body).toEqual({ statusCode: 400, message: EMAIL_TAKEN_MEANWHILE, error: 'Bad Request' });
    expect((await t.http.get('/auth/me', { token: user.accessToken })).body.email).toBe(user.email);
  });

  it('a newer request voids the older link; an expired link is the one 400', async () => {
    const user = await newUser(t.http);
    const first = fresh('first');
    const second = fresh('second');
    await change(user.accessToken, first);
    const older = linkIn(await smtp.nth(first, 'confirm-email'), 'confirm-email');
    await change(user.accessToken, second);
    const newer = linkIn(await smtp.nth(second, 'confirm-email'), 'confirm-email');
    expect((await confirm(older.token)).body.message).toBe(INVALID_LINK);
    await t.server.prisma.accountToken.updateMany({ where: { userId: user.id, purpose: 'EMAIL_CHANGE' }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await confirm(newer.token)).body.message).toBe(INVALID_LINK);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).body.email).toBe(user.email);
  });

  it('needs a recent authentication (RFC 9470) and a bearer token', async () => {
    const user = await newUser(t.http);
    const stale = await change(await staleToken(t, user), fresh('stale'));
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toContain('insufficient_user_authentication');
    expect((await t.http.post('/auth/email/change', { newEmail: fresh('anon') })).status).toBe(401);
  });
});

describe('Email change with mail off', () => {
  const t = useApp();

  it('503: no link can be sent', async () => {
    const user = await newUser(t.http);
    const res = await t.http.post('/auth/email/change', { newEmail: 'elsewhere@example.com' }, { token: user.accessToken });
    expect([res.status, res.body.message]).toEqual([503, MAIL_NOT_CONFIGURED]);
  });
});
