import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSync } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { awayFromStepEdge, enrolledUser } from '../mfa/support';
import { describeWithChromium, DESKTOP, launchChromium, openWatched, type Trouble } from '../support/browser';
import { ADMIN, ADMIN_ENV } from '../support/factories';
import { Http } from '../support/http';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { sleep, waitFor } from '../support/wait';

// The functions given to evaluate run in the page; this project's tsconfig has no DOM lib.
declare const navigator: any;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build script without types
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole: (outdir: string) => Promise<unknown> };

/** The code an authenticator app shows during time step `step` (otplib, as the app would: SHA-1, 6 digits, 30 s). */
const codeAt = (secret: string, step: number) => generateSync({ secret, epoch: step * 30 });

/** As in console.e2e-spec.ts: `CONSOLE_SCREENSHOTS=docs/screenshots` writes docs/console.md's pictures there. */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

/**
 * Second factors in the console, in a real browser, with the codes computed here as an
 * authenticator app would: enrolling (the key read from the page), the recovery codes
 * shown once, the second step at sign-in (a code, then a recovery code), the
 * re-authentication prompt of a stale session before a "recent" action, and an admin's
 * reset. Each TOTP step is accepted once per user: the spec starts away from a step's edge
 * and uses the current step, then the next (±1 step of drift), and recovery codes after that.
 */
describeWithChromium('test/browser/second-factors.e2e-spec.ts')('a real browser: two-factor authentication in the console', () => {
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;
  let consoleDir: string;
  let downloads: string;
  let shotsDir: string;
  let browser: Browser;
  const trouble: Trouble[] = [];
  let page: Page;
  let admin: Page;
  const person = { email: 'grace@example.com', password: 'compiler of 1952 A-0' };
  let secret = '';
  let codes: string[] = [];
  let step = 0;

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    downloads = mkdtempSync(join(tmpdir(), 'auth-console-downloads-'));
    await buildConsole(consoleDir);
    shotsDir = SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'auth-console-shots-'));
    mkdirSync(shotsDir, { recursive: true });
    db = await createTestDatabase();
    server = await startApp(db, { ...ADMIN_ENV, COOKIE_SECURE: 'false' }, { consoleDir });
    http = new Http(server.baseUrl);
    browser = await launchChromium();
    page = await openWatched(browser, 'person', { viewport: DESKTOP, acceptDownloads: true }, trouble);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    admin = await openWatched(browser, 'admin', { viewport: DESKTOP }, trouble);
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await db?.drop();
    for (const dir of [consoleDir, downloads, SCREENSHOTS ? undefined : shotsDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const shoot = (p: Page, name: string) => p.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
  const heading = (p: Page, name: string) => p.getByRole('heading', { level: 1, name }).waitFor();
  const section = (p: Page) => p.getByRole('region', { name: 'Two-factor authentication' });
  const status = (p: Page, text: string | RegExp) => p.getByRole('status').filter({ hasText: text }).waitFor();
  const signIn = async (p: Page, { email, password }: { email: string; password: string }) => {
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  const signOut = async () => {
    await page.getByRole('button', { name: `Sign out ${person.email}` }).click();
    await heading(page, 'Sign in');
  };
  const userOf = (email: string) => server.prisma.user.findUniqueOrThrow({ where: { email } });
  const liveSessions = async (email: string) => server.prisma.session.findMany({ where: { userId: (await userOf(email)).id, revokedAt: null } });
  /** The session of this browser made stale (signed in an hour ago), and a page load that refreshes its token, which carries that over. */
  const stale = async () => {
    const [session] = await liveSessions(person.email);
    await server.prisma.session.update({ where: { id: session.id }, data: { authTime: new Date(Date.now() - 3_600_000) } });
    await page.reload();
    await heading(page, 'My account');
  };

  it('enrolls: the QR code shows under the CSP, the key is read from the page, a code confirms it, 10 recovery codes are shown once', async () => {
    await page.goto(`${server.baseUrl}/console`);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading(page, 'My account');
    await section(page)
      .getByText(/^Off: your password alone signs in/)
      .waitFor();

    await section(page).getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = section(page).getByRole('img', { name: 'QR code to scan with your authenticator app' });
    await qr.waitFor();
    // Drawn (a broken or blocked image has no natural size), from the qrcode library's SVG.
    await waitFor('the QR code to be drawn', async () => (await qr.evaluate((img: any) => img.complete && img.naturalWidth)) > 0);
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    secret = (await section(page).getByLabel('Setup key').textContent())!;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await shoot(page, 'two-factor-enroll');

    step = await awayFromStepEdge();
    await section(page).getByLabel('Code from the app').fill(codeAt(secret, step));
    await section(page).getByRole('button', { name: 'Turn on' }).click();
    await status(page, 'Two-factor authentication is on. Every other device was signed out.');
    const list = section(page).getByRole('list', { name: 'Recovery codes' });
    codes = await list.locator('li').allTextContents();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    await shoot(page, 'two-factor-codes');

    await section(page).getByRole('button', { name: 'Copy' }).click();
    await status(page, 'Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${codes.join('\n')}\n`);
    const [download] = await Promise.all([page.waitForEvent('download'), section(page).getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('recovery-codes.txt');
    const saved = join(downloads, 'recovery-codes.txt');
    await download.saveAs(saved);
    expect(readFileSync(saved, 'utf8')).toBe(`${codes.join('\n')}\n`);

    await section(page).getByRole('button', { name: 'I have stored them' }).click();
    expect(await list.count()).toBe(0);
    await section(page)
      .getByText(/^On since .*Recovery codes left: 10\./)
      .waitFor();
    expect(await server.prisma.totpFactor.count({ where: { userId: (await userOf(person.email)).id, confirmedAt: { not: null } } })).toBe(1);
  });

  it('signs in with the password and a code from the app, then with a recovery code', async () => {
    await signOut();
    await signIn(page, person);
    // The second step: no session yet.
    await page.getByLabel('Code from your authenticator app').waitFor();
    expect(await liveSessions(person.email)).toHaveLength(0);
    await shoot(page, 'sign-in-second-step');
    // The code of the next step (the current one was spent confirming): within the ±1 step of drift.
    await page.getByLabel('Code from your authenticator app').fill(codeAt(secret, step + 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'My account');
    expect(await liveSessions(person.email)).toEqual([expect.objectContaining({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] })]);

    await signOut();
    await signIn(page, person);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'My account');
    await section(page)
      .getByText(/Recovery codes left: 9\./)
      .waitFor();
    expect(await liveSessions(person.email)).toEqual([expect.objectContaining({ acr: 'aal2' })]);
  });

  it('a used recovery code is refused at the second step, and the form says so', async () => {
    await signOut();
    await signIn(page, person);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'That code did not work: it is wrong or was used already' }).waitFor();
    expect(await liveSessions(person.email)).toHaveLength(0);
    await page.getByLabel('Recovery code').fill(codes[1]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'My account');
  });

  it('a stale session is asked to confirm it is you (a second factor) before turning two-factor off; then the action goes through', async () => {
    await stale();
    await section(page).getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await section(page).getByRole('button', { name: 'Confirm: turn off two-factor authentication' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    // The user has TOTP on: the prompt asks for the factor, not the password.
    await dialog.getByLabel('Code from your authenticator app').waitFor();
    await shoot(page, 'reauthenticate');
    expect(await server.prisma.totpFactor.count({ where: { userId: (await userOf(person.email)).id } })).toBe(1);
    await dialog.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await dialog.getByLabel('Recovery code').fill('aaaaa-bbbbb-ccccc-ddddd');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Invalid or already used code' }).waitFor();
    await dialog.getByLabel('Recovery code').fill(codes[2]);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await status(page, 'Two-factor authentication is off. Every other device was signed out.');
    expect(await dialog.count()).toBe(0);
    await section(page)
      .getByText(/^Off: your password alone signs in/)
      .waitFor();
    const user = await userOf(person.email);
    expect(await server.prisma.totpFactor.count({ where: { userId: user.id } })).toBe(0);
    expect(await server.prisma.auditEvent.count({ where: { userId: user.id, type: 'mfa.disabled' } })).toBe(1);
  });

  it('without a second factor the prompt asks for the password; Cancel leaves things as they were', async () => {
    await stale();
    const setUp = section(page).getByRole('button', { name: 'Set up an authenticator app' });
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await setUp.click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await section(page).getByRole('alert').filter({ hasText: 'Not done: this needs you to confirm it is you.' }).waitFor();

    await setUp.click();
    await dialog.getByLabel('Password').fill(person.password);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    // The request went through after the prompt: a new key to scan.
    await section(page).getByLabel('Setup key').waitFor();
    const events = await server.prisma.auditEvent.findMany({
      where: { userId: (await userOf(person.email)).id, type: 'user.reauthenticated' },
      orderBy: { createdAt: 'asc' },
    });
    expect(events.map((e) => (e.data as { method: string }).method)).toEqual(['recovery_code', 'password']);
  });

  it('an admin resets a user’s second factors (after confirming), which ends every session of theirs', async () => {
    const other = await enrolledUser(http);
    expect(await liveSessions(other.email)).toHaveLength(1);
    await admin.goto(`${server.baseUrl}/console`);
    await signIn(admin, ADMIN);
    await heading(admin, 'My account');
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('searchbox', { name: 'Search users by email' }).fill(other.email);
    await admin.getByRole('button', { name: 'Search' }).click();
    await admin.getByRole('button', { name: `Manage ${other.email}` }).click();
    await heading(admin, other.email);
    await admin.getByRole('button', { name: `Reset second factors of ${other.email}` }).click();
    await admin.getByRole('button', { name: `Confirm: reset second factors of ${other.email}` }).click();
    await status(admin, `The second factors of ${other.email} were removed, and every session of theirs ended.`);
    expect(await server.prisma.totpFactor.count({ where: { userId: other.id } })).toBe(0);
    expect(await liveSessions(other.email)).toHaveLength(0);
    // The password alone signs them in now.
    const login = await http.post('/auth/login', { email: other.email, password: other.password });
    expect([login.status, login.body.mfaRequired]).toEqual([200, undefined]);
  });

  it('saw no console error, no uncaught exception and no CSP violation, beyond the refusals the steps expect', async () => {
    // Let late answers in (a last request of a page that was left).
    await sleep(100);
    // The browser logs every 401 the API answered: the refresh without a session at the
    // first load, the step-up challenges, the wrong codes. Those are what the steps expect.
    const answered = (t: Trouble) =>
      t.kind === 'console' &&
      t.text.startsWith('Failed to load resource: the server responded with a status of 401') &&
      new URL(t.url ?? '/', server.baseUrl).pathname.startsWith('/auth/');
    expect(trouble.filter((t) => !answered(t))).toEqual([]);
    expect(trouble.filter((t) => t.kind === 'csp')).toEqual([]);
  });
});
