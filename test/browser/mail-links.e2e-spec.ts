import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchChromium, openWatched, type Trouble } from '../support/browser';
import { linkIn, MailCatcher } from '../support/mail-catcher';
import { Http } from '../support/http';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build script without types
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole: (outdir: string) => Promise<unknown> };

/**
 * The links of real mails (a real SMTP server, parsed with mailparser), opened in a real
 * browser as a person does: APP_URL/reset-password#token=… and APP_URL/verify-email#token=…
 * lead to the console's pages, which read the token from the fragment, take it out of
 * the address bar, and submit nothing until the person presses the button (a mail
 * scanner that opens the link spends nothing).
 */
describeWithChromium('test/browser/mail-links.e2e-spec.ts')('a real browser: the links of the recovery and verification mails', () => {
  const APP_URL = 'https://auth.example.com';
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;
  let consoleDir: string;
  let browser: Browser;
  let page: Page;
  const smtp = new MailCatcher();
  const trouble: Trouble[] = [];
  const person = { email: 'grace@example.com', password: 'compiler pioneer 1952' };

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    await buildConsole(consoleDir);
    await smtp.start();
    db = await createTestDatabase();
    server = await startApp(db, { COOKIE_SECURE: 'false', RATE_LIMIT_MAIL: '0', SMTP_URL: smtp.url, APP_URL }, { consoleDir });
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
  const unusedTokens = (purpose: 'PASSWORD_RESET' | 'EMAIL_VERIFICATION') =>
    server.prisma.accountToken.count({ where: { user: { email: person.email }, purpose } }); // a used one is deleted

  it('sign up in the console → the verification mail → its link → "Verify my email address": verified', async () => {
    await page.goto(`${server.baseUrl}/console`);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();

    const { link } = linkIn(await smtp.nth(person.email, 'verify-email'), 'verify-email');
    await openLink(link);
    await page.getByRole('heading', { level: 1, name: 'Verify your email address' }).waitFor();
    // Redirected to the console's page; the token left the address bar; nothing was submitted.
    expect(page.url()).toBe(`${server.baseUrl}/console/verify-email`);
    expect(await unusedTokens('EMAIL_VERIFICATION')).toBe(1);
    expect((await server.prisma.user.findUniqueOrThrow({ where: { email: person.email } })).emailVerified).toBe(false);

    await page.getByRole('button', { name: 'Verify my email address' }).click();
    await page.getByText('Your email address is verified.').waitFor();
    expect((await server.prisma.user.findUniqueOrThrow({ where: { email: person.email } })).emailVerified).toBe(true);
  });

  it('"Forgot password?" → the reset mail → its link → a new password: every old session ends, the new password signs in, the link works once', async () => {
    const before = await http.post('/auth/login', person);
    expect(before.status).toBe(200);
    await page.context().clearCookies();
    await page.goto(`${server.baseUrl}/console`);
    await page.getByRole('button', { name: 'Forgot password?' }).click();
    await page.getByLabel('Email').fill(person.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText('If an account has this email address, a link to reset its password is on its way.').waitFor();

    const { link } = linkIn(await smtp.nth(person.email, 'reset-password'), 'reset-password');
    await openLink(link);
    await page.getByRole('heading', { level: 1, name: 'Set a new password' }).waitFor();
    expect(page.url()).toBe(`${server.baseUrl}/console/reset-password`);
    expect(await unusedTokens('PASSWORD_RESET')).toBe(1); // opening the link spent nothing

    const newPassword = 'a new passphrase from the mail';
    await page.getByLabel('New password').fill(newPassword);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Your password was changed, and every device signed out.').waitFor();

    expect((await http.get('/auth/me', { token: before.body.accessToken })).status).toBe(401);
    expect((await http.post('/auth/refresh', { refreshToken: before.body.refreshToken })).status).toBe(401);
    expect((await http.post('/auth/login', person)).status).toBe(401);

    await page.getByRole('link', { name: 'Go to sign in' }).click();
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();

    // The same link again: the one message for a used, expired or superseded link.
    await openLink(link);
    await page.getByLabel('New password').fill('yet another passphrase here');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await waitFor('the invalid-link message', async () => (await page.getByRole('alert').allTextContents()).some((t) => /invalid or has expired/.test(t)));
  });

  it('met no console error, page error or CSP violation on the way (the expected refusals aside)', () => {
    // The browser reports refused requests as failed resources: the session check of a page
    // opened signed out (401 from /auth/refresh) and the spent link (400). Nothing else.
    const expected = [
      /^console: Failed to load resource: the server responded with a status of 401 \(Unauthorized\) \(.*\/auth\/refresh\)$/,
      /^console: Failed to load resource: the server responded with a status of 400 \(Bad Request\) \(.*\/auth\/password\/reset\)$/,
    ];
    const lines = trouble.map((t) => `${t.kind}: ${t.text}${t.kind === 'console' ? ` (${t.url})` : ''}`);
    expect(lines.filter((t) => !expected.some((e) => e.test(t)))).toEqual([]);
  });
});
