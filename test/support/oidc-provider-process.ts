import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const OIDC_CLIENT = { id: 'nest-auth-backend', secret: 'the-client-secret-of-the-spec-provider' };

/** How the next interaction at the provider ends: this account signs in (with acr/amr), or the person declines. */
export type NextInteraction = { account: string; acr?: string; amr?: string[] } | { deny: true };

/** The claims of a spec's account at the provider. */
export interface ProviderAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/**
 * A real OpenID Connect provider (oidc-provider 9, test/support/oidc-provider.mjs) in a
 * child process on loopback: its issuer, its accounts and how its next interaction ends.
 */
export class OidcTestProvider {
  private seq = 0;
  private readonly waiting = new Map<number, () => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
  ) {
    child.on('message', (message: { type: string; seq?: number }) => {
      if (message.type === 'ok' && message.seq !== undefined) this.waiting.get(message.seq)?.();
    });
  }

  static async start(): Promise<OidcTestProvider> {
    const child = fork(join(__dirname, 'oidc-provider.mjs'), [], {
      env: { ...process.env, OIDC_TEST_CLIENT_ID: OIDC_CLIENT.id, OIDC_TEST_CLIENT_SECRET: OIDC_CLIENT.secret, NODE_ENV: 'test' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: [],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const issuer = await new Promise<string>((resolve, reject) => {
      child.once('message', (message: { type: string; issuer: string }) =>
        message.type === 'ready' ? resolve(message.issuer) : reject(new Error('unexpected')),
      );
      child.once('exit', (code) => reject(new Error(`oidc-provider exited (${code}): ${stderr}`)));
    });
    return new OidcTestProvider(child, issuer);
  }

  /** An OIDC_PROVIDERS entry for this provider. */
  entry(id = 'spec', name = 'Spec Provider') {
    return { id, name, issuer: this.issuer, clientId: OIDC_CLIENT.id, clientSecret: OIDC_CLIENT.secret };
  }

  account(id: string, claims: ProviderAccount): Promise<void> {
    return this.send({ type: 'account', id, claims });
  }

  next(next: NextInteraction): Promise<void> {
    return this.send({ type: 'next', next });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  private send(message: Record<string, unknown>): Promise<void> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, () => {
        this.waiting.delete(seq);
        resolve();
      });
      this.child.send({ ...message, seq }, (error) => error && reject(error));
    });
  }
}

/** Cookies by name, for one host: what a browser would keep (no expiry or path rules beyond the test's needs). */
class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a) || /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(host, jar);
  }

  header(url: string): string {
    const jar = this.cookies.get(new URL(url).host);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  get(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).host)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.cookies.set(host, jar);
  }
}

/**
 * A browser's part of the authorization code flow, in plain HTTP: follows redirects by
 * hand, carrying each host's cookies, and stops where the spec wants to look (the
 * callback, before our server sees it; or our server's final redirect).
 */
export class OidcBrowser {
  readonly jar = new CookieJar();

  constructor(readonly appUrl: string) {}

  /** One request, cookies sent and kept; the response not followed. */
  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    const cookie = this.jar.header(url);
    const response = await fetch(url, { redirect: 'manual', headers: { ...headers, ...(cookie && { cookie }) } });
    this.jar.store(url, response);
    return response;
  }

  /** A JSON POST to our server (e.g. POST /auth/oidc/:provider/link), its cookies kept as a browser's fetch would. */
  async post(path: string, body: unknown, token: string): Promise<{ status: number; body: any }> {
    const url = `${this.appUrl}${path}`;
    const cookie = this.jar.header(url);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(cookie && { cookie }) },
      body: JSON.stringify(body),
    });
    this.jar.store(url, response);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** From `url`, follows redirects until one points at our callback: its URL (code, state, iss), not yet visited. */
  async toCallback(url: string): Promise<URL> {
    let next = url;
    for (let hops = 0; hops < 10; hops++) {
      const response = await this.get(next);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location)
        throw new Error(`${next} answered ${response.status} without a redirect: ${await response.text()}`);
      const target = new URL(location, next);
      if (target.href.startsWith(`${this.appUrl}/auth/oidc/`) && target.pathname.endsWith('/callback')) return target;
      next = target.href;
    }
    throw new Error('too many redirects');
  }

  /** GET /auth/oidc/:provider/start?redirect=… : our answer (302 to the provider, or straight back). */
  start(provider: string, redirect = '/console'): Promise<Response> {
    return this.get(`${this.appUrl}/auth/oidc/${provider}/start?redirect=${encodeURIComponent(redirect)}`);
  }

  /** The whole sign-in: start, the provider, and the callback's answer (302 with its Location and cookies). */
  async signIn(provider: string, redirect = '/console'): Promise<{ status: number; location: string; refreshCookie?: string }> {
    const started = await this.start(provider, redirect);
    const toProvider = started.headers.get('location');
    if (started.status !== 302 || !toProvider) throw new Error(`start answered ${started.status}: ${await started.text()}`);
    if (!toProvider.startsWith('http')) return { status: started.status, location: toProvider };
    return this.callback(await this.toCallback(toProvider));
  }

  /** Our callback with this URL (possibly tampered with). */
  async callback(url: URL | string): Promise<{ status: number; location: string; refreshCookie?: string; body: string }> {
    const response = await this.get(String(url));
    return {
      status: response.status,
      location: response.headers.get('location') ?? '',
      refreshCookie: this.jar.get(this.appUrl, 'refresh_token'),
      body: await response.text(),
    };
  }
}

/** The fragment of a Location as a map (`#error=…`, `#mfaToken=…&methods=…`). */
export function fragmentOf(location: string): Record<string, string> {
  const hash = location.indexOf('#');
  return hash === -1 ? {} : Object.fromEntries(new URLSearchParams(location.slice(hash + 1)));
}
