import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

// The functions given to addInitScript run in the page; this project's tsconfig has no DOM lib.
declare const window: any;
declare const document: any;
declare const location: any;

/** Debian's Chromium; playwright-core brings no browser of its own (.ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const haveChromium = existsSync(CHROMIUM);

/** `describe` when Chromium is there; otherwise `describe.skip`, and `spec` says it is skipped. */
export function describeWithChromium(spec: string): jest.Describe {
  if (!haveChromium) console.warn(`${spec} is SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  return haveChromium ? describe : describe.skip;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };
export const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
/** What the console says when the session of the page was ended elsewhere. */
export const SESSION_ENDED = 'Your session was ended (signed out on another device or by an administrator). Sign in again to continue.';

/** What went wrong in a page: errors in its console, uncaught exceptions, CSP violations. */
export interface Trouble {
  browser: string;
  kind: 'console' | 'pageerror' | 'csp';
  text: string;
  url?: string;
}

/**
 * A browser of its own (a context: cookies, storage) named `name`, whose page's every
 * console error, uncaught exception and CSP violation is pushed to `trouble`. Violations
 * are reported by the page itself: the event fires for every violation, reported or not.
 */
export async function openWatched(browser: Browser, name: string, options: Parameters<Browser['newContext']>[0], trouble: Trouble[]): Promise<Page> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(20_000);
  await context.exposeBinding('reportViolation', (_source, text: string) => trouble.push({ browser: name, kind: 'csp', text }));
  await context.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e: any) =>
      window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI} on ${location.href}`),
    ),
  );
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') trouble.push({ browser: name, kind: 'console', text: message.text(), url: message.location().url });
  });
  page.on('pageerror', (error) => trouble.push({ browser: name, kind: 'pageerror', text: error.message }));
  return page;
}
