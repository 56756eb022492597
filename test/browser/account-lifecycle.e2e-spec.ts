import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchChromium, openWatched, type Trouble } from '../support/browser';
import { ADMIN_ENV, newAdmin } from '../support/factories';
import { Http } from '../support/http';
import { linkIn, MailCatcher } from '../support/mail-catcher';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build script without types
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole: (outdir: string) => Promise<unknown> };

/**
 * The account's life in the console, in a real browser, with real mails: change the email
 * through the link mailed to the new address, delete the account, and accept an invitation.
 */
describeWithChromium('test/browser/account-lifecycle.e2e-spec.ts')('a real browser: email change, deletion, invitations', () => {
  const APP_URL = 'https://auth.example.com';
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;
  let consoleDir: string;
  let browser: Browser;
  let page: Page;
  const smtp = new MailCatcher();
  const trouble: Trouble[] = [];
  const person = { email: 'ada@example.com', password: 'analytical engine 1843' };
  const moved = 'countess@example.com';

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    await buildConsole(consoleDir);
    await smtp.start();
    db = await createTestDatabase();
    server = await startApp(db, { ...ADMIN_ENV, COOKIE_SECURE: 'false', RATE_LIMIT_MAIL: '0', SMTP_URL: smtp.url, APP_URL }, { consoleDir });
    http = new Http(server.baseUrl);
    browser = await launchChromium();
    page = await openWatched(browser, 'page', {}, trouble);
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await smtp.stop();
    await db?.drop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  /** The mail's link, opened on this server: its path and fragment (APP_URL names the public host). */
  const openLink = (link: string) => {
    const url = new URL(link);
    expect(url.origin).toBe(APP_URL);
    return page.goto(`${server.baseUrl}${url.pathname}${url.hash}`);
  };
  const section = (name: string) => page.getByRole('region', { name });

  it('change email: the link mailed to the new address, "Confirm my new address": the account has it, verified', async () => {
    await page.goto(`${server.baseUrl}/console`);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();

    const change = section('Change email address');
    await change.getByLabel('New email address').fill(moved);
    await change.getByRole('button', { name: 'Send confirmation link' }).click();
    await page.getByText(`A confirmation link is on its way to ${moved}.`).waitFor();

    const { link } = linkIn(await smtp.nth(moved, 'confirm-email'), 'confirm-email');
    await openLink(link);
    await page.getByRole('heading', { level: 1, name: 'Confirm your new email address' }).waitFor();
    // Opening the link spent nothing: the address changes when the person presses the button.
    expect(page.url()).toBe(`${server.baseUrl}/console/confirm-email`);
    expect((await server.prisma.user.findUniqueOrThrow({ where: { email: person.email } })).email).toBe(person.email);
    await page.getByRole('button', { name: 'Confirm my new address' }).click();
    await page.getByText('Your email address was changed and is verified.').waitFor();
    expect(await server.prisma.user.findUniqueOrThrow({ where: { email: moved } })).toMatchObject({ emailVerified: true });

    await page.getByRole('link', { name: 'Go to the console' }).click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    await section('Profile').getByText(moved).waitFor();
  });

  it('delete my account: a confirmation that names what is lost, then (the sign-in being old) the password in the re-authentication prompt; then signed out, and the account is gone', async () => {
    // The sign-in an hour old: DELETE /auth/me answers RFC 9470's challenge, which the console's prompt answers.
    const { id } = await server.prisma.user.findUniqueOrThrow({ where: { email: moved } });
    await server.prisma.session.updateMany({ where: { userId: id }, data: { authTime: new Date(Date.now() - 3_600_000) } });
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    const remove = section('Delete my account');
    await remove.getByText('It cannot be undone').waitFor();
    await remove.getByRole('button', { name: 'Delete my account and everything in it, for good' }).click();
    expect(await server.prisma.user.count({ where: { email: moved } })).toBe(1);
    await remove.getByRole('button', { name: 'Confirm: delete my account and everything in it, for good' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.getByLabel('Password').fill(person.password);
    expect(await server.prisma.user.count({ where: { email: moved } })).toBe(1);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Your account was deleted.').waitFor();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    expect(await server.prisma.user.count({ where: { email: moved } })).toBe(0);
    expect((await http.post('/auth/login', { email: moved, password: person.password })).status).toBe(401);
  });

  it('accept an invitation: the link, a password, "Create my account": signed in with the invited role', async () => {
    const admin = await newAdmin(http);
    const invitee = 'invited@example.com';
    expect((await http.post('/admin/invitations', { email: invitee, role: 'ADMIN' }, { token: admin.accessToken })).status).toBe(201);
    const { link } = linkIn(await smtp.nth(invitee, 'accept-invite'), 'accept-invite');
    await page.context().clearCookies();
    await openLink(link);
    await page.getByRole('heading', { level: 1, name: 'Accept your invitation' }).waitFor();
    expect(page.url()).toBe(`${server.baseUrl}/console/accept-invite`);
    await page.getByLabel('Password').fill('an invited passphrase');
    await page.getByRole('button', { name: 'Create my account' }).click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    await page.getByRole('link', { name: 'Users' }).waitFor(); // an admin's screens
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('region', { name: 'Invitations' }).getByText('No pending invitation.').waitFor();
    expect(await server.prisma.user.findUniqueOrThrow({ where: { email: invitee } })).toMatchObject({ role: 'ADMIN', emailVerified: true });
  });

  it('saw no console error, no uncaught exception and no CSP violation', () => {
    // The browser logs the 401s the API answered, expected: a refresh without a session at a
    // page load, and DELETE /auth/me's step-up challenge to the old sign-in.
    const refreshRefused = (t: Trouble) =>
      t.kind === 'console' &&
      t.text.startsWith('Failed to load resource: the server responded with a status of 401') &&
      ['/auth/refresh', '/auth/me'].includes(new URL(t.url ?? '/', server.baseUrl).pathname);
    expect(trouble.filter((t) => !refreshRefused(t))).toEqual([]);
  });
});
