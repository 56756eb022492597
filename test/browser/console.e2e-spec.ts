import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_CSP } from '../../src/console/console';
import { describeWithChromium, DESKTOP, haveChromium, IPHONE_UA, launchChromium, openWatched, PHONE, SESSION_ENDED, type Trouble } from '../support/browser';
import { ADMIN, ADMIN_ENV } from '../support/factories';
import { Http } from '../support/http';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

// The functions given to page.evaluate and addInitScript run in the page; this project's tsconfig has no DOM lib.
declare const window: any;
declare const document: any;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build script without types
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole: (outdir: string) => Promise<unknown> };

/**
 * `CONSOLE_SCREENSHOTS=docs/screenshots npx jest test/browser/console.e2e-spec.ts --selectProjects e2e:pglite`
 * writes docs/console.md's pictures there; otherwise they go to a temporary directory.
 */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

/**
 * The console, driven in a real browser as people use it: by the names of its labels,
 * buttons and links (getByRole, getByLabel), so that every step also checks that each
 * control has an accessible name. Three browsers (contexts: separate cookie jars): the
 * user's desktop, the user's phone, an admin's desktop.
 */
describeWithChromium('test/browser/console.e2e-spec.ts')('a real browser: the web console at /console', () => {
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;
  let consoleDir: string;
  let shotsDir: string;
  let browser: Browser;
  const trouble: Trouble[] = [];
  let desktop: Page;
  let phone: Page;
  let admin: Page;
  const person = { email: 'ada@example.com', name: 'Ada Lovelace', password: 'analytical engine 1843' };

  beforeAll(async () => {
    // Built from console/ now, into a directory of this spec's own: what is tested is what the sources make.
    consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    await buildConsole(consoleDir);
    shotsDir = SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'auth-console-shots-'));
    mkdirSync(shotsDir, { recursive: true });
    db = await createTestDatabase();
    server = await startApp(db, { ...ADMIN_ENV, COOKIE_SECURE: 'false' }, { consoleDir });
    http = new Http(server.baseUrl);
    browser = await launchChromium();
    desktop = await open('desktop', { viewport: DESKTOP });
    phone = await open('phone', { viewport: PHONE, userAgent: IPHONE_UA, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    admin = await open('admin', { viewport: DESKTOP });
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await db?.drop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
    if (shotsDir && !SCREENSHOTS) rmSync(shotsDir, { recursive: true, force: true });
  });

  const open = (name: string, options: Parameters<Browser['newContext']>[0]) => openWatched(browser, name, options, trouble);

  const shoot = (page: Page, name: string) => page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
  const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name }).waitFor();
  const devices = (page: Page) => page.getByRole('table', { name: 'My devices' }).locator('tbody tr');
  const rowCount = async (page: Page, n: number) => waitFor(`${n} device rows`, async () => (await devices(page).count()) === n);
  const signIn = async (page: Page, { email, password }: { email: string; password: string }) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  const userId = async () => (await server.prisma.user.findUniqueOrThrow({ where: { email: person.email } })).id;
  /** The sign-in form, and no word of why: what a first visit, or a sign-out in this browser, shows. */
  const signInWithoutNotice = async (page: Page) => {
    await heading(page, 'Sign in');
    expect(await page.getByRole('alert').count()).toBe(0);
  };
  /** The cells of a table's rows, as text. */
  const cells = (page: Page, table: string): Promise<string[][]> =>
    page
      .getByRole('table', { name: table })
      .locator('tbody tr')
      .evaluateAll((rows: any[]) => rows.map((row) => [...row.cells].map((cell: any) => cell.textContent.trim())));
  /** What the profile on My account says of the role. */
  const roleOnAccount = (page: Page) => page.getByRole('region', { name: 'Profile' }).locator('dt:text-is("Role") + dd').textContent();
  const activeSessions = async () => server.prisma.session.findMany({ where: { userId: await userId(), revokedAt: null } });

  it('is served with its own strict Content-Security-Policy, at /console and its deep links; the API keeps its headers', async () => {
    for (const path of ['/console', '/console/', '/console/reset-password', '/console/verify-email', '/console/admin/users']) {
      const res = await http.get(path);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, 'text/html; charset=utf-8']);
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      // No inline script or style to allow: every script has a src, no element has a style attribute.
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)|\sstyle=|<style/);
      expect(res.text).toContain('<meta name="registration" content="enabled">');
    }
    expect(CONSOLE_CSP).not.toMatch(/unsafe|\*|https?:/);
    // The assets have content-hashed names: cached for good, with the same policy.
    const script = /src="(\/console\/assets\/console-\w+\.js)"/.exec((await http.get('/console')).text)![1];
    const asset = await http.get(script);
    expect([asset.status, asset.headers.get('cache-control'), asset.headers.get('content-security-policy')]).toEqual([
      200,
      'public, max-age=31536000, immutable',
      CONSOLE_CSP,
    ]);
    expect((await http.get('/console/assets/missing.js')).status).toBe(404);
    // The API's own policy is untouched (Swagger UI needs its inline code).
    expect((await http.get('/auth/me')).headers.get('content-security-policy')).toContain("'unsafe-inline'");
  });

  it('signs up, signs out, signs in, and shows this browser among the devices, marked as this one', async () => {
    await desktop.goto(`${server.baseUrl}/console`);
    // A first visit (no cookie): the sign-in form, and no word of an ended session.
    await signInWithoutNotice(desktop);
    await shoot(desktop, 'sign-in-desktop');
    await desktop.getByRole('button', { name: 'Create an account' }).click();
    await heading(desktop, 'Create an account');
    await desktop.getByLabel('Email').fill(person.email);
    await desktop.getByLabel('Name (optional)').fill(person.name);
    await desktop.getByLabel('Password').fill(person.password);
    await desktop.getByRole('button', { name: 'Create account' }).click();
    await heading(desktop, 'My account');
    await rowCount(desktop, 1);

    await desktop.getByRole('button', { name: `Sign out ${person.email}` }).click();
    await heading(desktop, 'Sign in');
    await desktop.getByRole('status').filter({ hasText: 'You are signed out.' }).waitFor();
    expect(await desktop.getByRole('table').count()).toBe(0);
    // Signed out here (the server cleared the cookie): a reload does not say the session was ended.
    await desktop.reload();
    await signInWithoutNotice(desktop);

    await signIn(desktop, person);
    await heading(desktop, 'My account');
    await rowCount(desktop, 1);
    expect(await roleOnAccount(desktop)).toBe('User');
    expect(await devices(desktop).first().textContent()).toMatch(/HeadlessChrome on Linux\s*This device127\.0\.0\.1/);
    expect(await activeSessions()).toHaveLength(1);
    // The refresh token is in the HttpOnly cookie only; the page restores its session from it on a reload.
    const cookies = await desktop.context().cookies();
    expect(cookies.find((c) => c.name === 'refresh_token')).toEqual(expect.objectContaining({ httpOnly: true, sameSite: 'Strict', path: '/auth' }));
    expect(await desktop.evaluate(() => document.cookie)).not.toContain('refresh_token');
    await desktop.reload();
    await heading(desktop, 'My account');
    await rowCount(desktop, 1);
  });

  it('a second browser (a phone) signs in too; the first signs it out; the phone is signed out at its next action', async () => {
    await phone.goto(`${server.baseUrl}/console`);
    await heading(phone, 'Sign in');
    await shoot(phone, 'sign-in-phone');
    await signIn(phone, person);
    await heading(phone, 'My account');
    await rowCount(phone, 2);
    expect(await devices(phone).filter({ hasText: 'This device' }).textContent()).toContain('Safari on iPhone');
    await shoot(phone, 'account-phone');

    await desktop.getByRole('button', { name: 'Reload devices' }).click();
    await rowCount(desktop, 2);
    await shoot(desktop, 'account-desktop');
    await desktop.getByRole('button', { name: /^Sign out Safari on iPhone, 127\.0\.0\.1/ }).click();
    await desktop.getByRole('status').filter({ hasText: 'Signed out Safari on iPhone.' }).waitFor();
    await rowCount(desktop, 1);
    expect(await activeSessions()).toHaveLength(1);

    // The phone still shows its old screen until it does something: then the sign-in form, and why.
    await phone.getByRole('button', { name: 'Reload devices' }).click();
    await heading(phone, 'Sign in');
    expect(await phone.getByRole('alert').textContent()).toBe(SESSION_ENDED);
    // Nothing of the account is left on screen.
    expect(await phone.getByRole('table').count()).toBe(0);
    expect(await phone.locator('main').textContent()).not.toContain('iPhone');
    await shoot(phone, 'session-ended-phone');
  });

  it('an admin force-logs-out the user, disables and re-enables them, and reads the events in the audit log', async () => {
    await admin.goto(`${server.baseUrl}/console`);
    await signIn(admin, ADMIN);
    await heading(admin, 'My account');
    expect(await roleOnAccount(admin)).toBe('Administrator');
    await admin.getByRole('link', { name: 'Users' }).click();
    await heading(admin, 'Users');
    await admin.getByRole('searchbox', { name: 'Search users by email' }).fill('ada@');
    await admin.getByRole('button', { name: 'Search' }).click();
    await waitFor('the search result', async () => (await admin.getByRole('table', { name: 'Users' }).locator('tbody tr').count()) === 1);
    // A role reads the same on every screen: the list, the user's page, the person's own account.
    expect(await cells(admin, 'Users')).toEqual([[person.email, person.name, 'User', 'active', expect.any(String), 'Manage']]);
    await shoot(admin, 'admin-users');
    await admin.getByRole('button', { name: `Manage ${person.email}` }).click();
    await heading(admin, person.email);
    expect(await admin.getByLabel('Role').evaluate((select: any) => select.selectedOptions[0].textContent)).toBe('User');
    const sessionRows = admin.getByRole('table', { name: `Sessions of ${person.email}` }).locator('tbody tr');
    await waitFor('the user’s one session', async () => (await sessionRows.count()) === 1);
    await shoot(admin, 'admin-user');

    // Force logout: the user's desktop is signed out at its next action.
    await admin.getByRole('button', { name: 'Force logout' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${person.email} was signed out of every device.` })
      .waitFor();
    await admin.getByText('No active session.').waitFor();
    expect(await activeSessions()).toHaveLength(0);
    // The user reloads the page (rather than acting on it): the sign-in form says why, as it does after an action.
    await desktop.reload();
    await heading(desktop, 'Sign in');
    expect(await desktop.getByRole('alert').textContent()).toBe(SESSION_ENDED);

    // Disabled: the user cannot sign in (the one message for every failed login).
    await admin.getByRole('button', { name: 'Disable user' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${person.email} is disabled` })
      .waitFor();
    await signIn(desktop, person);
    await desktop.getByRole('alert').filter({ hasText: 'Invalid email or password' }).waitFor();
    expect(await desktop.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');

    // Enabled again: the user signs in.
    await admin.getByRole('button', { name: 'Enable user' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${person.email} is enabled` })
      .waitFor();
    await signIn(desktop, person);
    await heading(desktop, 'My account');
    await rowCount(desktop, 1);

    // The audit log of this user: every step above, newest first.
    await admin.getByRole('link', { name: 'Audit log of this user' }).click();
    await heading(admin, 'Audit log');
    expect(await admin.getByLabel('User id').inputValue()).toBe(await userId());
    const events = admin.getByRole('table', { name: 'Audit events, newest first' }).locator('tbody tr td:nth-child(2)');
    await waitFor('the audit events', async () => (await events.count()) > 0);
    const types = await events.allTextContents();
    expect(types.slice(0, 6)).toEqual(['login.succeeded', 'user.enabled', 'login.failed', 'user.disabled', 'user.force_logged_out', 'session.revoked']);
    expect(types).toContain('user.registered');
    // Who: the user's email, and the admin's where the admin did it ("the user" when the user did);
    // each on one line, the whole id on hover.
    const adminId = (await server.prisma.user.findUniqueOrThrow({ where: { email: ADMIN.email } })).id;
    const who = await admin
      .getByRole('table', { name: 'Audit events, newest first' })
      .locator('tbody tr')
      .evaluateAll((rows: any[]) => {
        /** A cell's text, the id in its title, and the lines its text takes (a box per line of each text node). */
        const measure = (cell: any) => {
          const walker = document.createTreeWalker(cell, 4 /* NodeFilter.SHOW_TEXT */);
          let lines = 0;
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(node);
            lines += range.getClientRects().length;
          }
          return { text: cell.textContent as string, id: (cell.querySelector('[title]')?.getAttribute('title') ?? null) as string | null, lines };
        };
        return rows.map((row) => ({ type: row.cells[1].textContent as string, user: measure(row.cells[2]), by: measure(row.cells[3]) }));
      });
    const one = (text: string, id: string | null) => ({ text, id, lines: 1 });
    expect(who.find((e) => e.type === 'user.force_logged_out')).toEqual({
      type: 'user.force_logged_out',
      user: one(person.email, await userId()),
      by: one(ADMIN.email, adminId),
    });
    expect(who.find((e) => e.type === 'session.revoked')).toEqual({
      type: 'session.revoked',
      user: one(person.email, await userId()),
      by: one('the user', null),
    });
    expect(who.filter((e) => e.user.text !== person.email || e.user.lines !== 1 || e.by.lines !== 1)).toEqual([]);
    await shoot(admin, 'admin-audit');
    // Filtered by type.
    await admin.getByLabel('Event type').selectOption('user.disabled');
    await admin.getByRole('button', { name: 'Show events' }).click();
    await waitFor('only user.disabled', async () => (await events.allTextContents()).join() === 'user.disabled');
    expect(admin.url()).toContain('type=user.disabled');
  });

  it('a role change reaches the user’s console at its next action: the admin screens appear, then go', async () => {
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('searchbox', { name: 'Search users by email' }).fill(person.email);
    await admin.getByRole('button', { name: 'Search' }).click();
    await admin.getByRole('button', { name: `Manage ${person.email}` }).click();
    await heading(admin, person.email);
    await admin.getByLabel('Role').selectOption('ADMIN');
    await admin.getByRole('button', { name: 'Change role' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${person.email} now has the role Administrator.` })
      .waitFor();
    // The page's next load reads the user as the server sees them now: the admin screens appear.
    await desktop.getByRole('button', { name: 'Reload devices' }).click();
    await desktop.getByRole('link', { name: 'Audit log' }).waitFor();
    expect(await desktop.getByRole('navigation').getByRole('link').allTextContents()).toEqual([
      'My account',
      'Users',
      'Audit log',
      'Signing keys',
      'Clients',
      'Webhooks',
      'Outbox',
    ]);

    await desktop.getByRole('link', { name: 'Users' }).click();
    await heading(desktop, 'Users');

    // Taken away while the user is on an admin screen: its next request is refused (403), and the screen goes.
    await admin.getByLabel('Role').selectOption('USER');
    await admin.getByRole('button', { name: 'Change role' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${person.email} now has the role User.` })
      .waitFor();
    await desktop.getByRole('searchbox', { name: 'Search users by email' }).fill('example.com');
    await desktop.getByRole('button', { name: 'Search' }).click();
    await desktop.getByRole('alert').filter({ hasText: 'This page is for administrators.' }).waitFor();
    expect(await desktop.getByRole('table').count()).toBe(0);
    expect(await desktop.getByRole('navigation').getByRole('link').allTextContents()).toEqual(['My account']);
    await desktop.getByRole('link', { name: 'Go to my account' }).click();
    await heading(desktop, 'My account');
  });

  it('an admin rotates the signing keys; the user changes their password, which signs out their other devices', async () => {
    await admin.getByRole('link', { name: 'Signing keys' }).click();
    await heading(admin, 'Signing keys');
    const keyRows = admin.getByRole('table', { name: 'Signing keys' }).locator('tbody tr');
    await waitFor('one key', async () => (await keyRows.count()) === 1);
    await admin.getByRole('button', { name: 'Rotate signing key' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: /^New key \S+ published/ })
      .waitFor();
    await waitFor('two keys', async () => (await keyRows.count()) === 2);
    expect((await keyRows.allTextContents()).join()).toMatch(/next.*active|active.*next/);
    await shoot(admin, 'admin-keys');

    // The phone signs in again; a password change on the desktop ends it.
    await signIn(phone, person);
    await heading(phone, 'My account');
    await desktop.getByLabel('Current password').fill(person.password);
    await desktop.getByLabel('New password').fill('difference engine 1822');
    await desktop.getByRole('button', { name: 'Change password' }).click();
    await desktop.getByRole('status').filter({ hasText: 'Password changed. Every other device was signed out.' }).waitFor();
    await desktop.getByRole('button', { name: 'Reload devices' }).click();
    await rowCount(desktop, 1);
    await phone.getByRole('button', { name: 'Reload devices' }).click();
    await heading(phone, 'Sign in');
    expect(await phone.getByRole('alert').textContent()).toBe(SESSION_ENDED);
    // A wrong current password is an error on the form, not the end of the session.
    await desktop.getByLabel('Current password').fill('not the password');
    await desktop.getByLabel('New password').fill('another long passphrase');
    await desktop.getByRole('button', { name: 'Change password' }).click();
    await desktop.getByRole('alert').filter({ hasText: 'Current password is incorrect' }).waitFor();
    await heading(desktop, 'My account');
  });

  it('logs out everywhere from the account page', async () => {
    await desktop.getByRole('button', { name: 'Sign out everywhere' }).click();
    await heading(desktop, 'Sign in');
    await desktop.getByRole('status').filter({ hasText: 'You are signed out on every device.' }).waitFor();
    expect(await activeSessions()).toHaveLength(0);
    // Ended from this browser, on purpose: a reload does not say the session was ended elsewhere.
    await desktop.reload();
    await signInWithoutNotice(desktop);
  });

  it('saw no console error, no uncaught exception and no CSP violation in any of the three browsers', () => {
    // The browser logs every 401 and 403 the API answered (a refresh without a session at a
    // page load, the session-ended checks, the wrong passwords; the demoted admin's request):
    // those are the answers the steps above expect, not errors of the page.
    const answered = (status: number, path: RegExp) => (t: Trouble) =>
      t.kind === 'console' &&
      t.text.startsWith(`Failed to load resource: the server responded with a status of ${status}`) &&
      path.test(new URL(t.url ?? '/', server.baseUrl).pathname);
    const expected = [answered(401, /^\/auth\//), answered(403, /^\/admin\/users$/)];
    expect(trouble.filter((t) => !expected.some((isExpected) => isExpected(t)))).toEqual([]);
    // The consoles were heard: the refresh at the first page load, without a session, is there.
    expect(trouble.filter(answered(401, /^\/auth\/refresh$/)).length).toBeGreaterThan(0);
  });

  it('…and would have seen one: an injected inline script is blocked and reported', async () => {
    const before = trouble.length;
    await desktop.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
    });
    // Both ways: the page's securitypolicyviolation event, and Chromium's console message.
    await waitFor('the violation, both ways', () => new Set(trouble.slice(before).map((t) => t.kind)).size === 2);
    expect(trouble.slice(before)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ browser: 'desktop', kind: 'csp', text: expect.stringMatching(/^script-src(-elem)? blocked inline/) }),
        expect.objectContaining({
          browser: 'desktop',
          kind: 'console',
          text: expect.stringContaining("violates the following Content Security Policy directive 'script-src 'self''"),
        }),
      ]),
    );
    expect(await desktop.evaluate(() => window.injected)).toBeUndefined();
  });
});

describe('the console when turned off, when registration is, and when it is not built', () => {
  let db: TestDatabase;
  let server: TestApp | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('CONSOLE_ENABLED=false: /console is 404, the API is served', async () => {
    server = await startApp(db, { CONSOLE_ENABLED: 'false' });
    const http = new Http(server.baseUrl);
    expect((await http.get('/console')).status).toBe(404);
    expect((await http.get('/console/reset-password')).status).toBe(404);
    expect((await http.get('/health')).status).toBe(200);
  });

  /* eslint-disable jest/no-standalone-expect -- the test block is `it` or `it.skip`, as Chromium is there or not */
  (haveChromium ? it : it.skip)('REGISTRATION_ENABLED=false: the console offers sign-in and no sign-up', async () => {
    const consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    const browser = await launchChromium();
    try {
      await buildConsole(consoleDir);
      server = await startApp(db, { REGISTRATION_ENABLED: 'false' }, { consoleDir });
      expect((await new Http(server.baseUrl).get('/console')).text).toContain('<meta name="registration" content="disabled">');
      const page = await browser.newPage();
      await page.goto(`${server.baseUrl}/console`);
      await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      await page.getByRole('button', { name: 'Forgot password?' }).waitFor();
      expect(await page.getByRole('button', { name: 'Create an account' }).count()).toBe(0);
    } finally {
      await browser.close();
      rmSync(consoleDir, { recursive: true, force: true });
    }
  });
  /* eslint-enable jest/no-standalone-expect */

  it('an unbuilt console answers 503 with what to run', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'auth-console-empty-'));
    try {
      server = await startApp(db, {}, { consoleDir: empty });
      const res = await new Http(server.baseUrl).get('/console');
      expect([res.status, res.body.message]).toEqual([503, expect.stringContaining('npm run build')]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
