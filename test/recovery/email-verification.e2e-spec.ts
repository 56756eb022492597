import { INVALID_LINK } from '../../src/auth/recovery/recovery.service';
import { validateEnv } from '../../src/config/configuration';
import { MAIL_NOT_CONFIGURED } from '../../src/mail/mail.service';
import { ADMIN, ADMIN_ENV, newUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { TEST_SECRET, useApp } from '../support/test-app';

const invalidLink = { statusCode: 400, message: INVALID_LINK, error: 'Bad Request' };

describe('Email verification: registration mails a link; verify; resend (API.md, "Account recovery and email")', () => {
  const env: Record<string, string> = { RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);

  const verify = (token: string) => t.http.post('/auth/email/verify', { token });
  const resend = (email: string) => t.http.post('/auth/email/verify/resend', { email });
  const meOf = (token: string) => t.http.get('/auth/me', { token }).then((r) => r.body);

  it('registration → verification mail → verify: emailVerified becomes true, and the link works once', async () => {
    const user = await newUser(t.http);
    expect((await meOf(user.accessToken)).emailVerified).toBe(false);
    const mail = await smtp.nth(user.email, 'verify-email');
    expect(mail.subject).toBe('Confirm your email address');
    const { link, token } = linkIn(mail, 'verify-email');
    expect(link).toBe(`${t.server.config.app.url}/verify-email#token=${token}`);

    const res = await verify(token);
    expect(res.status).toBe(204);
    expect((await meOf(user.accessToken)).emailVerified).toBe(true);
    expect((await verify(token)).body).toEqual(invalidLink);

    const events = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: 'email.verified' } });
    expect(events).toMatchObject([{ actorId: user.id, data: null }]);
    expect(t.server.logs()).not.toContain(token);
  });

  it('resend: the same 202 {} for unknown, verified and unverified emails; only the unverified one gets a new link, which voids the old', async () => {
    const unverified = await newUser(t.http);
    const first = linkIn(await smtp.nth(unverified.email, 'verify-email', 1), 'verify-email');
    const verified = await newUser(t.http);
    expect((await verify(linkIn(await smtp.nth(verified.email, 'verify-email', 1), 'verify-email').token)).status).toBe(204);
    const unknown = `nobody-${Date.now()}@example.com`;

    const answers = [await resend(unknown), await resend(verified.email), await resend(unverified.email)];
    expect(answers.map((r) => [r.status, r.text])).toEqual([
      [202, '{}'],
      [202, '{}'],
      [202, '{}'],
    ]);
    const second = linkIn(await smtp.nth(unverified.email, 'verify-email', 2), 'verify-email');
    expect(second.token).not.toBe(first.token);
    expect(smtp.to(verified.email, 'verify-email')).toHaveLength(1);
    expect(smtp.to(unknown)).toEqual([]);

    expect((await verify(first.token)).body).toEqual(invalidLink);
    expect((await verify(second.token)).status).toBe(204);
  });

  it('an expired link gives the one 400', async () => {
    const user = await newUser(t.http);
    const { token } = linkIn(await smtp.nth(user.email, 'verify-email'), 'verify-email');
    await t.server.prisma.accountToken.updateMany({ where: { userId: user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await verify(token)).body).toEqual(invalidLink);
    expect((await meOf(user.accessToken)).emailVerified).toBe(false);
  });

  it('400 for a body without a token', async () => {
    const res = await t.http.post('/auth/email/verify', {});
    expect([res.status, res.body.message]).toEqual([400, ['token is required']]);
  });
});

describe('REQUIRE_VERIFIED_EMAIL=true', () => {
  const env: Record<string, string> = { ...ADMIN_ENV, REQUIRE_VERIFIED_EMAIL: 'true', RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const t = useApp(env);

  it('register answers 201 { user, verificationRequired } without tokens; login is 403 only once the password is right; verified, it signs in', async () => {
    const email = 'careful@example.com';
    const password = 'a careful passphrase';
    const res = await t.http.post('/auth/register', { email, password });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user: { id: expect.any(String), email, emailVerified: false, name: null, role: 'USER', disabled: false, createdAt: expect.any(String) },
      verificationRequired: true,
    });
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await t.server.prisma.session.count({ where: { userId: res.body.user.id } })).toBe(0);

    const wrong = await t.http.post('/auth/login', { email, password: 'not the passphrase' });
    expect([wrong.status, wrong.body.message]).toEqual([401, 'Invalid email or password']);
    const right = await t.http.post('/auth/login', { email, password });
    expect(right.status).toBe(403);
    expect(right.body).toEqual({ statusCode: 403, message: 'Email address is not verified', error: 'Forbidden' });

    const { token } = linkIn(await smtp.nth(email, 'verify-email'), 'verify-email');
    expect((await t.http.post('/auth/email/verify', { token })).status).toBe(204);
    const signedIn = await t.http.post('/auth/login', { email, password });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user.emailVerified).toBe(true);
  });

  it('the first admin (ADMIN_EMAIL) counts as verified', async () => {
    const res = await t.http.post('/auth/login', ADMIN);
    expect(res.status).toBe(200);
    expect(res.body.user.emailVerified).toBe(true);
  });
});

describe('Mail off (no SMTP_URL, not development)', () => {
  const t = useApp({ RATE_LIMIT_MAIL: '0' });

  it('registration sends nothing; forgot and resend answer 503', async () => {
    const user = await newUser(t.http);
    expect(await t.server.prisma.outboxDelivery.count()).toBe(0);
    expect(await t.server.prisma.accountToken.count()).toBe(0);
    for (const path of ['/auth/password/forgot', '/auth/email/verify/resend']) {
      const res = await t.http.post(path, { email: user.email });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ statusCode: 503, message: MAIL_NOT_CONFIGURED, error: 'Service Unavailable' });
    }
  });

  it('REQUIRE_VERIFIED_EMAIL=true refuses to start, saying why', () => {
    expect(() => validateEnv({ NODE_ENV: 'production', AUTH_SECRET: TEST_SECRET + 'x7Q!', REQUIRE_VERIFIED_EMAIL: 'true' })).toThrow(
      /REQUIRE_VERIFIED_EMAIL: is true but mail is off.*set SMTP_URL/,
    );
  });
});
