import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, DESKTOP, IPHONE_UA, launchChromium, openWatched, PHONE, SESSION_ENDED, type Trouble } from '../support/browser';
import { ADMIN, ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { Http } from '../support/http';
import { MailCatcher } from '../support/mail-catcher';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';
import { Receiver } from '../support/webhook-receiver';
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/webhook-event-types';

// The functions given to page.evaluate and addInitScript run in the page; this project's tsconfig has no DOM lib.
declare const document: any;
declare const navigator: any;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build script without types
const { buildConsole } = require('../../scripts/build-console.js') as { buildConsole: (outdir: string) => Promise<unknown> };

/** `CONSOLE_SCREENSHOTS=docs/screenshots npx jest test/browser --selectProjects e2e:pglite` writes docs/console.md's pictures there. */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
/** Two attempts, the second 200 ms after the first: a receiver that keeps answering 500 ends `failed` at once. */
const RETRY_SCHEDULE = '0,200ms';

/**
 * An admin in a real browser manages the relying parties (Clients), the webhook endpoints
 * and their deliveries (Webhooks) and reads the Outbox, by the names of the labels,
 * buttons and links. A loopback receiver takes the webhooks; the app allows private
 * targets (WEBHOOK_ALLOW_PRIVATE_NETWORKS) and retries on a 200 ms, two-step schedule.
 */
describeWithChromium('test/browser/console-admin.e2e-spec.ts')('a real browser: the console’s clients, webhooks and outbox screens', () => {
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;
  let consoleDir: string;
  let shotsDir: string;
  let browser: Browser;
  let admin: Page;
  const trouble: Trouble[] = [];
  const receiver = new Receiver();
  const smtp = new MailCatcher();

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'auth-console-'));
    await buildConsole(consoleDir);
    shotsDir = SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'auth-console-shots-'));
    mkdirSync(shotsDir, { recursive: true });
    await receiver.start();
    await smtp.start();
    db = await createTestDatabase();
    server = await startApp(
      db,
      {
        ...ADMIN_ENV,
        COOKIE_SECURE: 'false',
        RATE_LIMIT_MAIL: '0',
        SMTP_URL: smtp.url,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        OUTBOX_RETRY_SCHEDULE: RETRY_SCHEDULE,
      },
      { consoleDir },
    );
    http = new Http(server.baseUrl);
    browser = await launchChromium();
    admin = await open('admin', { viewport: DESKTOP, permissions: ['clipboard-read', 'clipboard-write'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await db?.drop();
    await receiver.stop();
    await smtp.stop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
    if (shotsDir && !SCREENSHOTS) rmSync(shotsDir, { recursive: true, force: true });
  });

  const open = (name: string, options: Parameters<Browser['newContext']>[0]) => openWatched(browser, name, options, trouble);

  const shoot = (page: Page, name: string) => page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
  const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name }).waitFor();
  const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();
  const signIn = async (page: Page) => {
    await page.goto(`${server.baseUrl}/console`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await heading(page, 'My account');
  };
  /** The cells of a table's rows, as text. */
  const cells = (page: Page, table: string): Promise<string[][]> =>
    page
      .getByRole('table', { name: table })
      .locator('tbody tr')
      .evaluateAll((rows: any[]) => rows.map((row) => [...row.cells].map((cell: any) => cell.textContent.trim())));
  /** Everything the page shows or holds in a field: where a secret must not be once it has been dismissed. */
  const pageText = (page: Page): Promise<string> =>
    page.evaluate(() => `${document.body.innerText}\n${[...document.querySelectorAll('input')].map((i: any) => i.value).join('\n')}`);
  /** Nothing wider than the screen (a phone's layout viewport grows to its content: innerWidth would follow it). */
  const fitsWidth = (page: Page): Promise<boolean> => page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
  /** Introspects a throwaway token as a client: 200 when its credentials work, 401 when not. */
  const introspectAs = async (clientId: string, secret: string) =>
    (
      await http.post(
        '/auth/introspect',
        { token: 'not-a-token' },
        { headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` } },
      )
    ).status;

  describe('Clients', () => {
    let clientId: string;
    let firstSecret: string;

    it('an admin creates a client and sees its secret once, in a box, copyable; a reload no longer shows it', async () => {
      await signIn(admin);
      await admin.getByRole('navigation').getByRole('link', { name: 'Clients' }).click();
      await heading(admin, 'Clients');
      await admin.getByText('No client yet.').waitFor();

      // A refusal of the server (400) is shown with its message.
      await admin.getByLabel('Name').fill('billing-service');
      await admin.getByLabel('Back-channel logout URI (optional)').fill('ftp://billing.example.com/logout');
      await admin.getByRole('button', { name: 'Create client' }).click();
      await admin.getByRole('alert').filter({ hasText: 'backchannelLogoutUri must be an http or https URL' }).waitFor();
      expect(await admin.getByRole('heading', { name: /^The secret of/ }).count()).toBe(0);

      await admin.getByLabel('Back-channel logout URI (optional)').fill('https://billing.example.com/backchannel-logout');
      await admin.getByRole('button', { name: 'Create client' }).click();
      await status(admin, 'Client billing-service created.');
      await admin.getByRole('heading', { level: 2, name: 'The secret of billing-service' }).waitFor();
      const rows = await cells(admin, 'Clients');
      expect(rows).toHaveLength(1);
      expect(rows[0].slice(0, 3)).toEqual(['billing-service', expect.stringMatching(/^client_[\w-]{22}$/), 'https://billing.example.com/backchannel-logout']);
      clientId = rows[0][1];
      const field = admin.getByRole('textbox', { name: `Client secret of ${clientId}` });
      expect(await field.getAttribute('readonly')).not.toBeNull();
      firstSecret = await field.inputValue();
      expect(firstSecret).toMatch(/^[\w-]{43}$/);
      expect(await admin.getByText('it will not be shown again').count()).toBe(1);
      // It is the client's real secret, and the Copy button puts it on the clipboard.
      expect(await introspectAs(clientId, firstSecret)).toBe(200);
      await admin.getByRole('button', { name: 'Copy' }).click();
      await status(admin, 'Copied to the clipboard.');
      expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(firstSecret);
      await shoot(admin, 'admin-clients');

      // Once the page is reloaded the secret is gone for good: only the list remains.
      await admin.reload();
      await heading(admin, 'Clients');
      await admin.getByRole('table', { name: 'Clients' }).waitFor();
      expect(await cells(admin, 'Clients')).toEqual([rows[0]]);
      expect(await admin.getByRole('heading', { name: /^The secret of/ }).count()).toBe(0);
      expect(await pageText(admin)).not.toContain(firstSecret);
    });

    it('rotates the secret (the previous one keeps working), dismisses it, and deletes the client after a confirmation', async () => {
      await admin.getByRole('button', { name: `Rotate the secret of billing-service (${clientId})` }).click();
      await status(admin, 'billing-service has a new secret.');
      await admin.getByText('The previous secret keeps working for 24 hours').waitFor();
      const secret = await admin.getByRole('textbox', { name: `Client secret of ${clientId}` }).inputValue();
      expect(secret).toMatch(/^[\w-]{43}$/);
      expect(secret).not.toBe(firstSecret);
      expect([await introspectAs(clientId, secret), await introspectAs(clientId, firstSecret)]).toEqual([200, 200]);
      await admin.getByRole('button', { name: 'I have stored it' }).click();
      expect(await admin.getByRole('heading', { name: /^The secret of/ }).count()).toBe(0);
      expect(await pageText(admin)).not.toContain(secret);

      // Delete asks first; Cancel keeps the client.
      await admin.getByRole('button', { name: `Delete billing-service (${clientId})` }).click();
      await admin.getByRole('button', { name: 'Cancel' }).click();
      expect(await cells(admin, 'Clients')).toHaveLength(1);
      await admin.getByRole('button', { name: `Delete billing-service (${clientId})` }).click();
      await admin.getByRole('button', { name: `Confirm: delete billing-service (${clientId})` }).click();
      await status(admin, 'Client billing-service deleted: its credentials no longer work.');
      await admin.getByText('No client yet.').waitFor();
      expect(await introspectAs(clientId, secret)).toBe(401);
    });
  });

  describe('Webhooks', () => {
    const ok = () => receiver.url('/ok');
    const flaky = () => receiver.url('/flaky');
    let okSecret: string;
    /** The rows of the open endpoint's deliveries, reloaded until `check` holds. */
    const deliveriesUntil = async (url: string, what: string, check: (rows: string[][]) => boolean) =>
      waitFor(
        what,
        async () => {
          await admin.getByRole('button', { name: 'Reload deliveries' }).click();
          return check(await cells(admin, `Deliveries to ${url}`));
        },
        { everyMs: 250, attempts: 120 },
      );
    /** A user signs up and signs out: one `session.revoked` event. */
    const aSessionEnds = async () => {
      const user = await newUser(http);
      expect((await http.post('/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
      return user;
    };
    const createEndpoint = async (url: string, description: string, events: string[]) => {
      await admin.getByLabel('URL').fill(url);
      await admin.getByLabel('Description (optional)').fill(description);
      for (const type of events) await admin.getByRole('checkbox', { name: type }).check();
      await admin.getByRole('button', { name: 'Create endpoint' }).click();
      await status(admin, `Webhook endpoint ${url} created.`);
      return admin.getByRole('textbox', { name: 'Webhook signing secret' }).inputValue();
    };
    const manage = async (url: string) => {
      await admin.getByRole('button', { name: `Manage ${url}` }).click();
      await heading(admin, url);
    };

    it('an admin creates an endpoint on a loopback receiver (its secret shown once; without events, the server’s 400) and sees an event delivered', async () => {
      await admin.getByRole('navigation').getByRole('link', { name: 'Webhooks' }).click();
      await heading(admin, 'Webhooks');
      await admin.getByText('No webhook endpoint yet.').waitFor();
      // Every event type has a labelled checkbox; none chosen is refused by the server, with its message.
      expect(await admin.getByRole('group', { name: 'Events' }).getByRole('checkbox').count()).toBe(WEBHOOK_EVENT_TYPES.length);
      await admin.getByLabel('URL').fill(ok());
      await admin.getByRole('button', { name: 'Create endpoint' }).click();
      await admin.getByRole('alert').filter({ hasText: 'events must be a non-empty list of: session.revoked' }).waitFor();

      okSecret = await createEndpoint(ok(), 'audit mirror', ['session.revoked', 'user.disabled']);
      expect(okSecret).toMatch(/^whsec_/);
      await admin.getByText('it will not be shown again').waitFor();
      expect(await cells(admin, 'Webhook endpoints')).toEqual([
        [ok(), 'session.revoked, user.disabled', 'audit mirror', 'enabled', expect.any(String), 'Manage'],
      ]);
      await admin.reload();
      await heading(admin, 'Webhooks');
      await admin.getByRole('table', { name: 'Webhook endpoints' }).waitFor();
      expect(await pageText(admin)).not.toContain(okSecret);

      const user = await aSessionEnds();
      await manage(ok());
      await deliveriesUntil(ok(), 'the session.revoked delivery delivered', (rows) => rows.some((r) => r[1] === 'session.revoked' && r[2] === 'delivered'));
      const [delivered] = await cells(admin, `Deliveries to ${ok()}`);
      expect(delivered.slice(1, 5)).toEqual(['session.revoked', 'delivered', '1', '200']);

      // What the receiver got is signed with the secret the console showed (Standard Webhooks).
      const [request] = receiver.on('/ok');
      const key = Buffer.from(okSecret.slice('whsec_'.length), 'base64');
      const signed = `${String(request.headers['webhook-id'])}.${String(request.headers['webhook-timestamp'])}.${request.body}`;
      expect(String(request.headers['webhook-signature']).split(' ')).toContain(`v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
      expect(JSON.parse(request.body)).toEqual(expect.objectContaining({ type: 'session.revoked', data: expect.objectContaining({ userId: user.id }) }));
    });

    it('a receiver answering 500 ends failed after the two attempts; Retry sends it again once the receiver answers 200', async () => {
      // Its first two requests are answered 500, the next ones 200.
      receiver.script('/flaky', 500, 500);
      await admin.getByRole('button', { name: '← All webhooks' }).click();
      await heading(admin, 'Webhooks');
      await createEndpoint(flaky(), 'flaky receiver', ['session.revoked']);
      await admin.getByRole('button', { name: 'I have stored it' }).click();
      await shoot(admin, 'admin-webhooks');

      await aSessionEnds();
      await manage(flaky());
      await deliveriesUntil(flaky(), 'the delivery failed', (rows) => rows.some((r) => r[2] === 'failed'));
      const [failed] = await cells(admin, `Deliveries to ${flaky()}`);
      expect(failed.slice(1, 6)).toEqual(['session.revoked', 'failed', '2', expect.stringContaining('500'), '—']);
      expect(receiver.on('/flaky')).toHaveLength(2);
      await shoot(admin, 'admin-webhook');

      await admin.getByRole('button', { name: /^Retry delivery \d+: session\.revoked, / }).click();
      await status(admin, 'The session.revoked delivery will be sent again.');
      await deliveriesUntil(flaky(), 'the retried delivery delivered', (rows) => rows[0]?.[2] === 'delivered');
      expect(await admin.getByRole('button', { name: /^Retry delivery/ }).count()).toBe(0);
      expect(receiver.on('/flaky')).toHaveLength(3);
    });

    it('disables the endpoint (it receives nothing) and enables it again, edits it, rotates its secret (shown once), and deletes it after a confirmation', async () => {
      await admin.getByRole('button', { name: 'Disable endpoint' }).click();
      await status(admin, `${flaky()} is disabled: it receives nothing.`);
      await admin.getByText('Disabled: receives nothing').waitFor();
      // A session ends while it is disabled: no delivery for it (the other endpoint gets one).
      await aSessionEnds();
      await receiver.waitFor('/ok', 3);
      await admin.getByRole('button', { name: 'Enable endpoint' }).click();
      await status(admin, `${flaky()} is enabled.`);
      await admin.getByText('Enabled: receives its events').waitFor();
      // Enabled again, it gets the next one: two deliveries in all, both delivered.
      await aSessionEnds();
      await deliveriesUntil(flaky(), 'the next event delivered', (rows) => rows.length === 2 && rows[0][2] === 'delivered');
      expect((await cells(admin, `Deliveries to ${flaky()}`)).map((r) => r.slice(1, 3))).toEqual([
        ['session.revoked', 'delivered'],
        ['session.revoked', 'delivered'],
      ]);
      expect(receiver.on('/flaky')).toHaveLength(4);

      // Its settings: a description and one more event.
      await admin.getByLabel('Description (optional)').fill('flaky receiver, now quiet');
      await admin.getByRole('checkbox', { name: 'user.force_logged_out' }).check();
      await admin.getByRole('button', { name: 'Save changes' }).click();
      await status(admin, 'Changes saved.');
      await admin.getByText('session.revoked, user.force_logged_out', { exact: true }).waitFor();
      await admin.getByText('flaky receiver, now quiet', { exact: true }).waitFor();

      await admin.getByRole('button', { name: 'Rotate secret' }).click();
      await status(admin, `${flaky()} has a new signing secret.`);
      await admin.getByText('For 24 hours deliveries are signed with the previous secret too').waitFor();
      expect(await admin.getByRole('textbox', { name: 'Webhook signing secret' }).inputValue()).toMatch(/^whsec_/);

      await admin.getByRole('button', { name: `Delete endpoint ${flaky()}` }).click();
      await admin.getByRole('button', { name: `Confirm: delete endpoint ${flaky()}` }).click();
      await heading(admin, 'Webhooks');
      await status(admin, `Webhook endpoint ${flaky()} deleted.`);
      expect((await cells(admin, 'Webhook endpoints')).map((r) => r[0])).toEqual([ok()]);
    });
  });

  describe('Outbox', () => {
    it('lists every delivery, newest first, and filters them by kind and status', async () => {
      // A mail through the outbox: a password reset asked for by a user.
      const user = await newUser(http);
      expect((await http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
      await admin.getByRole('navigation').getByRole('link', { name: 'Outbox' }).click();
      await heading(admin, 'Outbox');
      const table = 'Outbox deliveries, newest first';
      await waitFor(
        'the password-reset mail delivered',
        async () => {
          await admin.getByRole('button', { name: 'Show deliveries' }).click();
          const rows = await cells(admin, table);
          return (
            rows.some((r) => r[1] === 'Mail' && r[2] === user.email && r[3] === 'password-reset' && r[4] === 'delivered') &&
            rows.every((r) => r[4] !== 'pending')
          );
        },
        { everyMs: 250, attempts: 120 },
      );
      expect((await cells(admin, table)).filter((r) => r[1] === 'Webhook').length).toBeGreaterThanOrEqual(2);
      await shoot(admin, 'admin-outbox');

      await admin.getByLabel('Kind').selectOption('mail');
      await admin.getByLabel('Status').selectOption('delivered');
      await admin.getByRole('button', { name: 'Show deliveries' }).click();
      await waitFor('only delivered mails', async () => {
        const rows = await cells(admin, table);
        return rows.length > 0 && rows.every((r) => r[1] === 'Mail' && r[4] === 'delivered');
      });
      expect(admin.url()).toMatch(/\?kind=mail&status=delivered$/);
      await admin.getByLabel('Status').selectOption('failed');
      await admin.getByRole('button', { name: 'Show deliveries' }).click();
      await admin.getByText('No delivery matches.').waitFor();
    });
  });

  it('on a phone, the admin screens fit the width: the tables scroll, the page does not', async () => {
    const phone = await open('phone', { viewport: PHONE, userAgent: IPHONE_UA, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await signIn(phone);
    // Each screen once it has loaded (its list, or the words saying it is empty).
    const screens = [
      { title: 'Clients', loaded: phone.getByText('No client yet.') },
      { title: 'Outbox', loaded: phone.getByRole('table', { name: 'Outbox deliveries, newest first' }) },
      { title: 'Audit log', loaded: phone.getByRole('table', { name: 'Audit events, newest first' }) },
      { title: 'Webhooks', loaded: phone.getByRole('table', { name: 'Webhook endpoints' }) },
    ];
    for (const { title, loaded } of screens) {
      await phone.getByRole('navigation').getByRole('link', { name: title }).click();
      await heading(phone, title);
      await loaded.waitFor();
      expect([title, await fitsWidth(phone)]).toEqual([title, true]);
    }
    // One endpoint's page: its settings, its deliveries.
    await phone.getByRole('button', { name: `Manage ${receiver.url('/ok')}` }).click();
    await phone.getByRole('table', { name: `Deliveries to ${receiver.url('/ok')}` }).waitFor();
    expect(await fitsWidth(phone)).toBe(true);
  });

  it('when the admin’s sessions are ended elsewhere, the next action shows the sign-in form, and the secret on screen is gone', async () => {
    await admin.getByRole('navigation').getByRole('link', { name: 'Clients' }).click();
    await heading(admin, 'Clients');
    await admin.getByLabel('Name').fill('reporting-service');
    await admin.getByRole('button', { name: 'Create client' }).click();
    await status(admin, 'Client reporting-service created.');
    const [[, clientId]] = await cells(admin, 'Clients');
    const secret = await admin.getByRole('textbox', { name: `Client secret of ${clientId}` }).inputValue();

    // The admin signs out everywhere from another device.
    const elsewhere = await newAdmin(http);
    expect((await http.post('/auth/logout-all', undefined, { token: elsewhere.accessToken })).status).toBe(204);
    await admin.getByRole('button', { name: `Rotate the secret of reporting-service (${clientId})` }).click();
    await heading(admin, 'Sign in');
    expect(await admin.getByRole('alert').textContent()).toBe(SESSION_ENDED);
    expect(await admin.getByRole('table').count()).toBe(0);
    expect(await pageText(admin)).not.toContain(secret);
    // The rotation was not made: the secret shown still works.
    expect(await introspectAs(clientId, secret)).toBe(200);
  });

  it('saw no console error, no uncaught exception and no CSP violation', () => {
    // The answers the steps above expect: the refresh without a session at the first page
    // load and after the sessions ended, the rotation sent with the ended session's token
    // (401), the refused back-channel logout URI and the endpoint without events (400).
    const answered = (code: number, path: RegExp) => (t: Trouble) =>
      t.kind === 'console' &&
      t.text.startsWith(`Failed to load resource: the server responded with a status of ${code}`) &&
      path.test(new URL(t.url ?? '/', server.baseUrl).pathname);
    const refused = [answered(400, /^\/admin\/clients$/), answered(400, /^\/admin\/webhooks$/)];
    const expected = [answered(401, /^\/auth\/refresh$/), answered(401, /^\/admin\/clients\/[\w-]+\/secret$/), ...refused];
    expect(trouble.filter((t) => !expected.some((isExpected) => isExpected(t)))).toEqual([]);
    // The consoles were heard: each 400 is there, once.
    expect(refused.map((isRefused) => trouble.filter(isRefused).length)).toEqual([1, 1]);
  });
});
