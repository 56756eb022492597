import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { hashRefreshToken } from '../../src/auth/tokens/refresh-token';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from '../support/browser';
import { newUser, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

// The functions given to page.evaluate run in the page; this project's tsconfig has no DOM lib.
declare const window: any;
declare const document: { cookie: string };
declare const localStorage: Record<string, string>;
declare const sessionStorage: Record<string, string>;

/**
 * The browser transport in a real browser. The app page is served from
 * http://127.0.0.1:<pagePort> and calls the API at http://127.0.0.1:<apiPort>: another
 * origin (CORS, credentials: 'include') but the same site, which is where a
 * SameSite=Strict cookie is sent. The attacker's page is on http://localhost:<port>:
 * another site (cookies are per host, not per port).
 */
describeWithChromium('test/browser/cookie-mode.e2e-spec.ts')('a real browser: the refresh token lives in an HttpOnly cookie', () => {
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;
  let pages: Server;
  let attacker: Server;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  let pageOrigin: string;
  let attackerOrigin: string;
  let api: string;
  let user: TestUser;
  /** The access token the page holds (in memory only, as an SPA would). */
  let accessToken: string;
  let sessionId: string;
  const apiSaw: { route: string; cookie: string; status: number; setCookie: string[] | string | null }[] = [];

  beforeAll(async () => {
    // The same pages on both servers: the app at /, the attempts at /form and /blank.
    const routes = (path: string) => ({ '/': appPage(api), '/form': formPage(`${api}/auth/refresh`), '/blank': '<!doctype html><title>blank</title>' })[path];
    pages = await serve(routes);
    attacker = await serve(routes);
    pageOrigin = `http://127.0.0.1:${port(pages)}`;
    attackerOrigin = `http://localhost:${port(attacker)}`;
    db = await createTestDatabase();
    server = await startApp(db, { CORS_ORIGINS: pageOrigin, COOKIE_SECURE: 'false' });
    api = server.baseUrl;
    // What reaches the API, seen from its side: the browser does not always show it.
    server.app.getHttpServer().on('request', (req: IncomingMessage, res: ServerResponse) =>
      res.once('finish', () =>
        apiSaw.push({
          route: `${req.method} ${req.url?.split('?')[0]}`,
          cookie: req.headers.cookie ?? '',
          status: res.statusCode,
          setCookie: (res.getHeader('set-cookie') as string[] | string | undefined) ?? null,
        }),
      ),
    );
    http = new Http(api);
    user = await newUser(http);

    userDataDir = mkdtempSync(join(tmpdir(), 'auth-chromium-'));
    context = await launch();
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await Promise.all([pages, attacker].map((s) => s && new Promise((resolve) => s.close(resolve))));
    await server?.close();
    await db?.drop();
  });

  /** Chromium on the profile in userDataDir (fresh for this spec). */
  const launch = async () => {
    const { chromium } = await import('playwright-core');
    return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  };
  /** The cookie the browser would send with a request to /auth/refresh. */
  const refreshCookie = async () => (await context.cookies(`${api}/auth/refresh`)).find((c) => c.name === 'refresh_token');
  const session = () => server.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
  /** Calls `window.app[fn]` in the app page: what the page's own scripts get to see. */
  const inPage = (fn: 'login' | 'refresh' | 'logout' | 'me', ...args: string[]) =>
    page.evaluate(([fn, args]) => window.app[fn](...args), [fn, args] as const) as Promise<{
      status: number;
      body: any;
    }>;
  const scriptsSaw = () =>
    page.evaluate(() => JSON.stringify({ seen: window.seen, cookie: document.cookie, storage: { ...localStorage }, session: { ...sessionStorage } }));

  it('logs in from the page; the refresh token is only in an HttpOnly, SameSite=Strict cookie that no script can read', async () => {
    await page.goto(`${pageOrigin}/`);
    const login = await inPage('login', user.email, user.password);

    expect(login.status).toBe(200);
    expect(login.body.accessToken).toEqual(expect.any(String));
    expect(login.body).not.toHaveProperty('refreshToken');
    accessToken = login.body.accessToken;
    sessionId = login.body.sessionId;

    const cookie = await refreshCookie();
    expect(cookie).toEqual(expect.objectContaining({ httpOnly: true, sameSite: 'Strict', path: '/auth', secure: false }));
    expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000); // persistent: it outlives the tab
    expect((await session()).refreshTokenHash).toBe(hashRefreshToken(cookie!.value));
    // Not in any body or header the page received, not in document.cookie, not in storage.
    expect(await scriptsSaw()).not.toContain(cookie!.value);
    // Not even for a script of the API's own origin, on a path the cookie is sent to.
    const apiPage = await context.newPage();
    try {
      await apiPage.goto(`${api}/auth/me`);
      expect(await apiPage.evaluate(() => document.cookie)).toBe('');
    } finally {
      await apiPage.close();
    }
    expect((await inPage('me', accessToken)).status).toBe(200);
  });

  it('refreshes with the cookie alone, after a reload of the page, and after the browser is restarted', async () => {
    const before = (await refreshCookie())!.value;
    const refreshed = await inPage('refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toHaveProperty('refreshToken');
    expect(refreshed.body.sessionId).toBe(sessionId);
    const rotated = (await refreshCookie())!.value;
    expect(rotated).not.toBe(before);
    expect(await session()).toEqual(expect.objectContaining({ generation: 1, refreshTokenHash: hashRefreshToken(rotated) }));

    // A reload forgets everything the page held; the browser kept the cookie.
    await page.reload();
    expect(await page.evaluate(() => window.seen.length)).toBe(0);
    const afterReload = await inPage('refresh');
    expect(afterReload.status).toBe(200);
    accessToken = afterReload.body.accessToken;
    expect((await inPage('me', accessToken)).status).toBe(200);
    expect((await session()).generation).toBe(2);
    expect(await scriptsSaw()).not.toContain((await refreshCookie())!.value);

    // The browser closed and opened again on the same profile: the cookie was kept on disk.
    await context.close();
    context = await launch();
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${pageOrigin}/`);
    const afterRestart = await inPage('refresh');
    expect(afterRestart.status).toBe(200);
    accessToken = afterRestart.body.accessToken;
    expect((await session()).generation).toBe(3);
  });

  it('refuses /auth/refresh posted by a form or a no-cors fetch of another site or origin: nothing is issued', async () => {
    const cookieBefore = (await refreshCookie())!.value;
    const sessionBefore = await session();

    // Another site: SameSite=Strict keeps the cookie out of the request altogether.
    const crossSiteForm = await attempt(attackerOrigin, 'form');
    const crossSiteFetch = await attempt(attackerOrigin, 'fetch');
    // Same site, another origin: the cookie goes along, but neither a form nor a no-cors
    // fetch can send X-Auth-Mode.
    const sameSiteForm = await attempt(pageOrigin, 'form');
    const sameSiteFetch = await attempt(pageOrigin, 'fetch');

    // A form is refused before any route (415: JSON bodies only), or by the cookie rules.
    const refusal = (res: { status: number }, statuses: number[]) => ({ ...res, refused: statuses.includes(res.status) });
    expect(refusal(crossSiteForm, [401, 403, 415])).toEqual(expect.objectContaining({ sentCookie: false, refused: true }));
    expect(refusal(sameSiteForm, [403, 415])).toEqual(expect.objectContaining({ sentCookie: true, refused: true }));
    // A body-less POST reaches the route: no cookie at all, or a cookie without the header.
    expect(crossSiteFetch).toEqual(expect.objectContaining({ sentCookie: false, status: 401 }));
    expect(sameSiteFetch).toEqual(expect.objectContaining({ sentCookie: true, status: 403 }));
    for (const res of [crossSiteForm, crossSiteFetch, sameSiteForm, sameSiteFetch]) {
      expect(res.setCookie).toBeNull();
      expect(res.text).not.toMatch(/accessToken|refreshToken/);
    }
    // A script of the other site cannot send the request with the header either: CORS
    // refuses its preflight.
    await page.goto(`${attackerOrigin}/blank`);
    const scripted = await page.evaluate(async (url) => {
      try {
        const res = await fetch(url, { method: 'POST', credentials: 'include', headers: { 'X-Auth-Mode': 'cookie' } });
        return `answered ${res.status}`;
      } catch (error) {
        return `refused: ${(error as Error).name}`;
      }
    }, `${api}/auth/refresh`);
    expect(scripted).toBe('refused: TypeError');

    expect((await refreshCookie())!.value).toBe(cookieBefore);
    expect(await session()).toEqual(sessionBefore);
    // The user's own page is unaffected.
    await page.goto(`${pageOrigin}/`);
    const refreshed = await inPage('refresh');
    expect(refreshed.status).toBe(200);
    accessToken = refreshed.body.accessToken;
  });

  it('logs out from the page: the cookie is cleared, the next refresh is 401, the session has ended', async () => {
    const logout = await inPage('logout', accessToken);
    expect(logout.status).toBe(204);
    expect(await refreshCookie()).toBeUndefined();

    const refresh = await inPage('refresh');
    expect(refresh.status).toBe(401);
    expect((await inPage('me', accessToken)).status).toBe(401);
    expect(await session()).toEqual(expect.objectContaining({ revokedReason: 'LOGOUT', revokedAt: expect.any(Date) }));
  });

  /**
   * From a page of `origin`, POSTs to /auth/refresh with what any site can send without
   * CORS: an auto-submitted HTML form, or a body-less `fetch` in no-cors mode (whose
   * answer the browser withholds from the page, and, with helmet's
   * Cross-Origin-Resource-Policy, from the network log too). Returns what the API saw
   * and answered: the status, and whether the refresh cookie came with the request.
   */
  async function attempt(origin: string, how: 'form' | 'fetch') {
    const before = apiSaw.length;
    const requested = page.waitForRequest((r) => r.url() === `${api}/auth/refresh` && r.method() === 'POST');
    if (how === 'form') {
      await page.goto(`${origin}/form`);
    } else {
      await page.goto(`${origin}/blank`);
      await page.evaluate((url) => {
        void fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => undefined);
      }, `${api}/auth/refresh`);
    }
    const request = await requested;
    await waitFor('the API to answer', () => apiSaw.slice(before).some((r) => r.route === 'POST /auth/refresh'));
    const response = how === 'form' ? await request.response() : null;
    const { status, cookie, setCookie } = apiSaw.slice(before).find((r) => r.route === 'POST /auth/refresh')!;
    return {
      status,
      sentCookie: /(^|;\s*)refresh_token=/.test(cookie),
      setCookie,
      text: response ? await response.text() : '',
    };
  }
});

/** An HTTP server on 127.0.0.1 serving the HTML `route` returns for a path (404 otherwise). */
function serve(route: (path: string) => string | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    const html = route(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const port = (server: Server) => (server.address() as { port: number }).port;

/**
 * The app: a page whose scripts call the API in cookie mode, as a browser client must,
 * and keep every response body and header they are given in `window.seen`.
 */
function appPage(api: string): string {
  return `<!doctype html><meta charset="utf-8"><title>app</title>
<script>
  window.seen = [];
  async function call(method, path, { body, token } = {}) {
    const headers = { 'X-Auth-Mode': 'cookie' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(${JSON.stringify(api)} + path, {
      method, headers, credentials: 'include', body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    window.seen.push(text, ...[...res.headers].map(([name, value]) => name + ': ' + value));
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  window.app = {
    login: (email, password) => call('POST', '/auth/login', { body: { email, password } }),
    refresh: () => call('POST', '/auth/refresh'),
    logout: (token) => call('POST', '/auth/logout', { token }),
    me: (token) => call('GET', '/auth/me', { token }),
  };
</script>`;
}

/** A page that posts a form to `action` as soon as it loads (the CSRF attempt). */
function formPage(action: string): string {
  return `<!doctype html><meta charset="utf-8"><title>form</title>
<form method="POST" action="${action}"></form>
<script>document.forms[0].submit();</script>`;
}
