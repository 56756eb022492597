import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium, openWatched, type Trouble } from '../support/browser';
import { newUser, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

// The functions given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const window: any;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole: (outdir: string) => Promise<unknown> };

/**
 * Passkeys in the console, in Chromium with a virtual authenticator (DevTools Protocol
 * WebAuthn domain: CTAP2, internal transport, resident keys, user verification): a person
 * adds a passkey, signs out, signs in with it, and removes it. The page is at
 * http://localhost:<port> (a secure context, and the RP ID `localhost`): a forwarder on a
 * port known before the app starts, so that APP_URL, and with it WEBAUTHN_RP_ID and
 * WEBAUTHN_ORIGINS' defaults, name the origin the page really has.
 */
describeWithChromium('test/browser/passkeys.e2e-spec.ts')('a real browser: passkeys in the console', () => {
  let db: TestDatabase;
  let server: TestApp;
  let forwarder: Server;
  let consoleDir: string;
  let browser: Browser;
  let page: Page;
  let user: TestUser;
  let origin: string;
  const trouble: Trouble[] = [];

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    await buildConsole(consoleDir);
    let appPort = 0;
    forwarder = createServer((socket) => {
      const upstream = connect(appPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      const close = () => (socket.destroy(), upstream.destroy());
      socket.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
    origin = `http://localhost:${(forwarder.address() as { port: number }).port}`;
    db = await createTestDatabase();
    server = await startApp(db, { COOKIE_SECURE: 'false', APP_URL: origin }, { consoleDir });
    appPort = Number(new URL(server.baseUrl).port);
    user = await newUser(new Http(server.baseUrl));
    // localhost is the loopback address the forwarder listens on (not ::1).
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP localhost 127.0.0.1'] });
    page = await openWatched(browser, 'desktop', {}, trouble);
    // The button first: the autofill request (conditional UI) is hidden until the spec turns it on.
    await page.context().addInitScript(() => {
      if (window.sessionStorage.getItem('autofill') !== 'on') window.PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await new Promise((resolve) => forwarder?.close(resolve));
    await db?.drop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor();
  const status = (text: string) => page.getByRole('status').filter({ hasText: text }).waitFor();
  const passkeyRows = () => page.getByRole('table', { name: 'My passkeys' }).locator('tbody tr');
  /** The browser's sessions (newUser's own, made through the API, is not one). */
  const sessions = () =>
    server.prisma.session.findMany({ where: { userId: user.id, revokedAt: null, userAgent: { contains: 'Chrome' } }, orderBy: { createdAt: 'asc' } });

  it('adds a passkey, signs out, signs in with it (no email, aal2), and removes it', async () => {
    await page.goto(`${origin}/console`);
    await heading('Sign in');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await heading('My account');

    await page.getByLabel('Name of the new passkey (optional)').fill('This laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await status('Passkey “This laptop” added.');
    await waitFor('the passkey listed', async () => (await passkeyRows().count()) === 1);
    expect(await passkeyRows().first().textContent()).toContain('This laptop');
    const stored = await server.prisma.passkey.findMany({ where: { userId: user.id } });
    expect(stored).toEqual([expect.objectContaining({ name: 'This laptop', transports: expect.arrayContaining(['internal']) })]);

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await heading('Sign in');
    expect(await sessions()).toHaveLength(0);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await heading('My account');
    const [session] = await sessions();
    expect(session).toMatchObject({ acr: 'aal2', amr: [expect.stringMatching(/^(hwk|swk)$/), 'user', 'mfa'] });

    // With the browser's autofill of passkeys (conditional UI) on: the sign-in form asks the
    // authenticator as it opens (the virtual one answers at once, as a person picking it would).
    await page.evaluate(() => window.sessionStorage.setItem('autofill', 'on'));
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await heading('Sign in');
    await page.reload();
    await heading('My account');
    expect(await sessions()).toEqual([expect.objectContaining({ acr: 'aal2' })]);
    expect((await sessions())[0].id).not.toBe(session.id);

    // Signed in with the passkey just now: recent, aal2; removing it asks for nothing more.
    await waitFor('the passkey listed', async () => (await passkeyRows().count()) === 1);
    await page.getByRole('button', { name: 'Remove passkey This laptop' }).click();
    await page.getByRole('button', { name: 'Confirm: remove passkey This laptop' }).click();
    await status('Passkey “This laptop” removed.');
    expect(await page.getByRole('table', { name: 'My passkeys' }).count()).toBe(0);
    expect(await server.prisma.passkey.count({ where: { userId: user.id } })).toBe(0);
    // This session goes on; the other one (newUser's, through the API) has ended.
    expect(await sessions()).toHaveLength(1);
    expect(await server.prisma.session.count({ where: { userId: user.id, revokedAt: null } })).toBe(1);
  });

  it('saw no uncaught exception and no CSP violation (the bundled @simplewebauthn/browser loads nothing from elsewhere)', () => {
    const expected = (t: Trouble) => t.kind === 'console' && /status of 401/.test(t.text) && /\/auth\//.test(t.url ?? '');
    expect(trouble.filter((t) => !expected(t))).toEqual([]);
  });
});
