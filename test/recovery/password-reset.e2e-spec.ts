import { INVALID_LINK } from '../../src/auth/recovery/recovery.service';
import { ADMIN_ENV, newAdmin, newSession, newUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { Http } from '../support/http';
import { describeOnPostgres } from '../support/test-database';
import { startApp, useApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

describe('Password reset: forgot → mail → reset (API.md, "Account recovery and email")', () => {
  const env: Record<string, string> = { ...ADMIN_ENV, APP_URL: 'https://auth.example.com/console', RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);

  const forgot = (email: string) => t.http.post('/auth/password/forgot', { email });
  const reset = (token: string, newPassword: string) => t.http.post('/auth/password/reset', { token, newPassword });
  const me = (token: string) => t.http.get('/auth/me', { token }).then((r) => r.status);
  const refresh = (refreshToken: string) => t.http.post('/auth/refresh', { refreshToken }).then((r) => r.status);
  const login = (email: string, password: string) => t.http.post('/auth/login', { email, password }).then((r) => r.status);
  const invalidLink = { statusCode: 400, message: INVALID_LINK, error: 'Bad Request' };

  /** Asks for a reset of `email` and returns the token of the n-th reset mail it has received. */
  async function resetLink(email: string, n = 1) {
    expect((await forgot(email)).status).toBe(202);
    return linkIn(await smtp.nth(email, 'reset-password', n), 'reset-password');
  }

  it('the mail carries an APP_URL/reset-password#token=… link; the reset ends every session at once, and the link works once', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);

    const res = await forgot(user.email.toUpperCase());
    expect(res.status).toBe(202);
    expect(res.body).toEqual({});
    const mail = await smtp.nth(user.email, 'reset-password');
    expect(mail.subject).toBe('Reset your password');
    expect(mail.from?.value[0].address).toBe('no-reply@auth.example.com');
    const { link, token } = linkIn(mail, 'reset-password');
    expect(link).toBe(`https://auth.example.com/console/reset-password#token=${token}`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    // HTML-escaped in the HTML body (Handlebars writes = as &#x3D;), the same link once decoded.
    const href = /href="([^"]+)"/.exec(String(mail.html))?.[1] ?? '';
    expect(href.replace(/&#x([0-9A-F]+);/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))).toBe(link);
    expect(mail.html).toContain('rel="noreferrer"');

    // Only the hash is stored.
    const stored = await t.server.prisma.accountToken.findMany({ where: { userId: user.id, purpose: 'PASSWORD_RESET' } });
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token);

    const newPassword = 'a passphrase from the reset link';
    expect((await reset(token, newPassword)).status).toBe(204);
    for (const accessToken of [user.accessToken, other.accessToken]) expect(await me(accessToken)).toBe(401);
    for (const refreshToken of [user.refreshToken, other.refreshToken]) expect(await refresh(refreshToken)).toBe(401);
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.refreshTokenVersion).toBe(1);
    expect(row.emailVerified).toBe(true);
    const ended = await t.server.prisma.session.findMany({ where: { userId: user.id } });
    expect(ended.map((s) => s.revokedReason)).toEqual(['PASSWORD_RESET', 'PASSWORD_RESET']);

    expect(await login(user.email, user.password)).toBe(401);
    expect(await login(user.email, newPassword)).toBe(200);

    // Once only.
    const again = await reset(token, 'yet another passphrase');
    expect(again.status).toBe(400);
    expect(again.body).toEqual(invalidLink);

    // Audited, without the token, the password or a hash; the payload of the delivered mail is gone.
    const events = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: { startsWith: 'password.' } }, orderBy: { id: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['password.reset_requested', 'password.reset']);
    expect(events[1]).toMatchObject({ actorId: user.id, data: { sessionsEnded: 2 } });
    const outbox = await t.server.prisma.outboxDelivery.findMany({ where: { target: user.email, eventType: 'password-reset' } });
    expect(outbox).toMatchObject([{ kind: 'mail', eventType: 'password-reset', status: 'delivered', attempts: 1, lastStatusCode: 250, payload: null }]);
    const everything = JSON.stringify({ events, outbox, logs: t.server.logs() }, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    for (const secret of [token, newPassword, row.passwordHash]) expect(everything).not.toContain(secret);
  });

  it('known and unknown emails get the same answer, and only the known one gets a mail', async () => {
    const user = await newUser(t.http);
    const unknown = `nobody-${Date.now()}@example.com`;

    const answers = [await forgot(unknown), await forgot(user.email)];
    const shape = (r: (typeof answers)[number]) => ({
      status: r.status,
      text: r.text,
      headers: [...r.headers.entries()].filter(([name]) => !['date', 'x-request-id', 'ratelimit-reset', 'keep-alive'].includes(name)),
    });
    expect(shape(answers[0])).toEqual(shape(answers[1]));

    await smtp.nth(user.email, 'reset-password');
    // The unknown email's request was handled first: had it sent anything, it would be here by now.
    expect(smtp.to(unknown)).toEqual([]);
    expect(await t.server.prisma.outboxDelivery.count({ where: { target: unknown } })).toBe(0);
    expect(smtp.to(user.email, 'reset-password')).toHaveLength(1);
  });

  it('a newer link, a password change, or an expiry makes a link useless: the one 400', async () => {
    const user = await newUser(t.http);
    const first = await resetLink(user.email, 1);
    const second = await resetLink(user.email, 2);
    expect((await reset(first.token, 'passphrase number one')).body).toEqual(invalidLink);

    // A password change voids the outstanding link.
    const changed = await t.http.post('/auth/password', { currentPassword: user.password, newPassword: 'changed passphrase' }, { token: user.accessToken });
    expect(changed.status).toBe(204);
    expect((await reset(second.token, 'passphrase number two')).body).toEqual(invalidLink);

    // An expired link (its expiry moved into the past, as the clock would).
    const third = await resetLink(user.email, 3);
    await t.server.prisma.accountToken.updateMany({ where: { userId: user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await reset(third.token, 'passphrase number three')).body).toEqual(invalidLink);

    // Not a token at all, and a well-formed one nobody issued: the same message.
    expect((await reset('not-a-token', 'passphrase number four')).body).toEqual(invalidLink);
    expect((await reset('A'.repeat(43), 'passphrase number four')).body).toEqual(invalidLink);
    expect(await login(user.email, 'changed passphrase')).toBe(200);
  });

  it('400 with every problem for a bad body; the new password follows the password policy', async () => {
    const res = await t.http.post('/auth/password/reset', { newPassword: 'short' });
    expect(res.status).toBe(400);
    expect(res.body.message).toEqual(expect.arrayContaining(['token is required', expect.stringMatching(/^newPassword must be/)]));
    expect((await forgot('not an email')).status).toBe(400);
    expect((await t.http.post('/auth/password/forgot', {})).body.message).toEqual(['email is required']);
  });

  it('a disabled account gets no mail', async () => {
    const user = await newUser(t.http);
    const admin = await newAdmin(t.http);
    expect((await t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken })).status).toBe(200);
    const witness = await newUser(t.http);
    await forgot(user.email);
    await resetLink(witness.email);
    expect(smtp.to(user.email, 'reset-password')).toEqual([]);
  });

  it('/admin/outbox lists the mail (the recipient, never the token), newest first', async () => {
    const user = await newUser(t.http);
    const { token } = await resetLink(user.email);
    const admin = await newAdmin(t.http);
    await waitFor(
      'the delivery recorded',
      async () => (await t.server.prisma.outboxDelivery.count({ where: { target: user.email, status: 'delivered' } })) === 2,
    );
    const res = await t.http.get('/admin/outbox?kind=mail&status=delivered&take=1', { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      {
        id: expect.any(String),
        kind: 'mail',
        target: user.email,
        eventType: 'password-reset',
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 250,
        lastError: null,
        nextAttemptAt: null,
        createdAt: expect.any(String),
      },
    ]);
    expect(res.body.nextCursor).toBe(res.body.items[0].id);
    const next = await t.http.get(`/admin/outbox?kind=mail&take=100&cursor=${res.body.nextCursor}`, { token: admin.accessToken });
    expect(next.body.items.every((d: { id: string }) => BigInt(d.id) < BigInt(res.body.nextCursor))).toBe(true);
    expect(res.text + next.text).not.toContain(token);

    expect((await t.http.get('/admin/outbox?kind=fax', { token: admin.accessToken })).body.message).toEqual(['kind must be one of webhook, backchannel, mail']);
    expect((await t.http.get('/admin/outbox', { token: user.accessToken })).status).toBe(403);
    expect((await t.http.get('/admin/outbox')).status).toBe(401);
  });
});

describe('Password reset: rate limits per email and per IP', () => {
  const env: Record<string, string> = { RATE_LIMIT_MAIL: '2' };
  useMailCatcher(env);
  const t = useApp(env);

  it('429 with Retry-After past RATE_LIMIT_MAIL a minute for one email, whatever the address', async () => {
    const email = 'target@example.com';
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await t.http.post('/auth/password/forgot', { email })).status);
    expect(statuses).toEqual([202, 202, 429]);
  });

  it('and for one IP, whatever the email (this spec has one address: its budget is spent)', async () => {
    const res = await t.http.post('/auth/password/forgot', { email: 'someone-else@example.com' });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describeOnPostgres('Password reset across two instances sharing one PostgreSQL database', () => {
  const env: Record<string, string> = { RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);
  let b: TestApp;
  beforeAll(async () => {
    b = await startApp(t.db, env);
  });
  afterAll(() => b?.close());

  it('asked on A, mailed once, reset on B: A refuses the old access tokens too, as soon as it hears it', async () => {
    const user = await newUser(t.http);
    const httpB = new Http(b.baseUrl);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);

    expect((await t.http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
    const { token } = linkIn(await smtp.nth(user.email, 'reset-password'), 'reset-password');
    expect((await httpB.post('/auth/password/reset', { token, newPassword: 'reset on the other instance' })).status).toBe(204);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    await waitFor('A refuses the old token', async () => (await t.http.get('/auth/me', { token: user.accessToken })).status === 401);
    expect((await t.http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
    // Both workers were woken by the one NOTIFY; the lease let one of them send it.
    expect(smtp.to(user.email, 'reset-password')).toHaveLength(1);
  });
});
