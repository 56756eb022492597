import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, DESKTOP, launchChromium, openWatched, type Trouble } from '../support/browser';
import { newUser } from '../support/factories';
import { Http } from '../support/http';
import { OidcTestProvider } from '../support/oidc-provider-process';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build script without types
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole: (outdir: string) => Promise<unknown> };

/**
 * The console's "Sign in with <name>" in a real browser, against a real OpenID Connect
 * provider (oidc-provider 9 on loopback): the whole round trip of redirects, the flow
 * cookie (SameSite=Lax) and the refresh cookie, then the console signed in.
 */
describeWithChromium('test/browser/providers.e2e-spec.ts')('the console: sign in with another provider', () => {
  let db: TestDatabase;
  let server: TestApp;
  let idp: OidcTestProvider;
  let consoleDir: string;
  let browser: Browser;
  const trouble: Trouble[] = [];

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    await buildConsole(consoleDir);
    idp = await OidcTestProvider.start();
    db = await createTestDatabase();
    server = await startApp(db, { COOKIE_SECURE: 'false', OIDC_PROVIDERS: JSON.stringify([idp.entry('spec', 'Spec ID')]) }, { consoleDir });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await idp?.stop();
    await db?.drop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  const open = (name: string): Promise<Page> => openWatched(browser, name, { viewport: DESKTOP }, trouble);
  /** What went wrong in the pages, but the 401 of the refresh a page load tries without a session (the console's way to ask). */
  const unexpected = () => trouble.filter((t) => !(t.kind === 'console' && t.url?.endsWith('/auth/refresh') && t.text.includes('401')));
  const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name }).waitFor();

  it('clicks "Sign in with Spec ID" and lands signed in, the provider linked on My account, no token in the address bar', async () => {
    await idp.account('ada', { email: 'ada@example.org', email_verified: true, name: 'Ada' });
    await idp.next({ account: 'ada' });
    const page = await open('provider');
    await page.goto(`${server.baseUrl}/console`);
    await heading(page, 'Sign in');
    await page.getByRole('button', { name: 'Sign in with Spec ID' }).click();
    await heading(page, 'My account');
    expect(page.url()).toBe(`${server.baseUrl}/console`);
    const linked = page.getByRole('table', { name: 'Linked providers' }).locator('tbody tr');
    await linked.first().waitFor();
    expect(await linked.first().textContent()).toContain('ada@example.org');
    // The session is the refresh cookie's, HttpOnly: nothing in a URL, nothing the page can read.
    const cookies = await page.context().cookies(`${server.baseUrl}/auth/oidc/spec/callback`);
    expect(cookies.find((c) => c.name === 'refresh_token')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The flow was used once: its cookie is gone.
    expect(cookies.find((c) => c.name === 'oidc_flow')).toBeUndefined();
    expect(unexpected()).toEqual([]);
  });

  it('explains in words why a sign-in was refused (an account holds the email, unverified)', async () => {
    const http = new Http(server.baseUrl);
    const user = await newUser(http, { email: 'grace@example.org' });
    await idp.account('grace', { email: user.email, email_verified: true });
    await idp.next({ account: 'grace' });
    const page = await open('refused');
    await page.goto(`${server.baseUrl}/console`);
    await page.getByRole('button', { name: 'Sign in with Spec ID' }).click();
    await heading(page, 'Sign in');
    await page.getByRole('alert').filter({ hasText: 'An account with this email address already exists' }).waitFor();
    // The fragment was read and taken out of the address bar.
    expect(page.url()).toBe(`${server.baseUrl}/console`);
    expect(unexpected()).toEqual([]);
  });
});
