import { newUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { OidcBrowser } from '../support/oidc-provider-process';
import { browser, providerAccount, useAppWithProvider } from './support';

/**
 * Pre-hijacking: a stranger makes an account with someone else's address, links their own
 * provider, and waits for the owner of the address to take the account over with a reset
 * link. The reset proves the mailbox: the providers linked before it are unlinked.
 */
describe('a reset link that proves the mailbox of an unverified account unlinks the providers linked before', () => {
  const env: Record<string, string> = { RATE_LIMIT_MAIL: '0' };
  const smtp = useMailCatcher(env);
  const { t, idp } = useAppWithProvider(env);

  /** The owner of the address resets the password by mail. */
  async function resetByMail(email: string): Promise<void> {
    expect((await t.http.post('/auth/password/forgot', { email })).status).toBe(202);
    const { token } = linkIn(await smtp.nth(email, 'reset-password'), 'reset-password');
    expect((await t.http.post('/auth/password/reset', { token, newPassword: 'the owner chose this one' })).status).toBe(204);
  }

  async function linkFrom(accessToken: string): Promise<void> {
    const b = new OidcBrowser(t.server.baseUrl);
    const asked = await b.post('/auth/oidc/spec/link', {}, accessToken);
    expect((await b.callback(await b.toCallback(asked.body.url))).location).toBe('/#linked=spec');
  }

  it("unlinks the stranger's provider when the owner resets an account whose address was not verified", async () => {
    const prepared = await newUser(t.http);
    const stranger = await providerAccount(idp(), { email: 'stranger@example.net' });
    await linkFrom(prepared.accessToken);
    expect(await t.server.prisma.identity.count({ where: { userId: prepared.id } })).toBe(1);

    await resetByMail(prepared.email);
    expect(await t.server.prisma.identity.count({ where: { userId: prepared.id } })).toBe(0);
    const audit = await t.server.prisma.auditEvent.findFirstOrThrow({ where: { userId: prepared.id, type: 'identity.unlinked' } });
    expect(audit.data).toMatchObject({ provider: 'spec', reason: 'reset_of_unverified_email' });

    // The stranger's provider no longer reaches the account: it makes an account of its own address.
    await idp().next({ account: stranger.sub });
    const signedIn = await browser(t).signIn('spec');
    const refreshed = await t.http.post('/auth/refresh', {}, { headers: { 'x-auth-mode': 'cookie', cookie: `refresh_token=${signedIn.refreshCookie}` } });
    expect(refreshed.body.user).toMatchObject({ email: 'stranger@example.net' });
    expect(refreshed.body.user.id).not.toBe(prepared.id);
  });

  it('keeps the providers of an account whose address was verified', async () => {
    const user = await newUser(t.http);
    await t.server.prisma.user.update({ where: { id: user.id }, data: { emailVerified: true } });
    await providerAccount(idp());
    await linkFrom(user.accessToken);
    await resetByMail(user.email);
    expect(await t.server.prisma.identity.count({ where: { userId: user.id } })).toBe(1);
  });
});
