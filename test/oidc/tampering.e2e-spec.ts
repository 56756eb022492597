import { ConfigService } from '@nestjs/config';
import { FLOW_COOKIE, FlowCookies, type OidcFlow } from '../../src/auth/oidc/flow-cookie';
import { secretKey } from '../../src/auth/secret/server-secret';
import type { AppConfig } from '../../src/config/configuration';
import { fragmentOf, OidcBrowser } from '../support/oidc-provider-process';
import { TEST_SECRET } from '../support/test-app';
import { browser, providerAccount, useAppWithProvider } from './support';

/** The flow cookie as the server seals it (the spec knows AUTH_SECRET): to forge a flow that differs in one field. */
const cookies = new FlowCookies({ current: secretKey(TEST_SECRET) }, { get: () => false } as unknown as ConfigService<AppConfig, true>);

/** A browser halfway through a sign-in: at the provider's redirect to our callback, not yet followed. */
async function atCallback(b: OidcBrowser): Promise<URL> {
  const started = await b.start('spec', '/console');
  return b.toCallback(started.headers.get('location')!);
}

/** Replaces the browser's flow cookie with one sealed from the same flow with `change` applied. */
async function tamperFlow(b: OidcBrowser, change: Partial<OidcFlow>): Promise<void> {
  const flow = (await cookies.open(b.jar.get(b.appUrl, FLOW_COOKIE)))!;
  expect(flow).toMatchObject({ provider: 'spec', mode: 'sign-in', redirect: '/console' });
  const { expiresAt, ...rest } = { ...flow, ...change };
  b.jar.set(b.appUrl, FLOW_COOKIE, await cookies.seal(rest, expiresAt));
}

describe('the callback refuses a tampered or foreign answer', () => {
  const { t, idp } = useAppWithProvider();

  beforeEach(async () => {
    await providerAccount(idp());
  });

  it('signs in with the untouched answer (the control case), and the flow cookie is used once', async () => {
    const b = browser(t);
    const callback = await atCallback(b);
    const first = await b.callback(callback);
    expect(first).toMatchObject({ status: 302, location: '/console' });
    expect(first.refreshCookie).toBeDefined();
    expect(b.jar.get(t.server.baseUrl, FLOW_COOKIE)).toBeUndefined();
    // The same answer again: no flow in this browser any more.
    expect((await b.callback(callback)).status).toBe(400);
  });

  it("answers 400 to a state that is not the flow cookie's, and to a browser without a flow cookie", async () => {
    const b = browser(t);
    const callback = await atCallback(b);
    const wrongState = new URL(callback);
    wrongState.searchParams.set('state', 'not-the-state');
    const refused = await b.callback(wrongState);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).message).toBe('No sign-in with this provider is in progress in this browser for this state');
    expect(refused.refreshCookie).toBeUndefined();

    // Another browser (an attacker's link to a victim): no flow cookie, nothing happens.
    const stranger = browser(t);
    expect((await stranger.callback(await atCallback(browser(t)))).status).toBe(400);
    // A forged cookie is none.
    const forged = browser(t);
    forged.jar.set(t.server.baseUrl, FLOW_COOKIE, 'eyJhbGciOiJkaXIifQ..AAAA.BBBB.CCCC');
    expect((await forged.callback(callback)).status).toBe(400);
    expect(t.server.logs()).toContain('Sign-in with spec refused (400): the state does not match the flow cookie');
  });

  it.each([
    ['another nonce (an ID token of another flow)', { nonce: 'another-nonce' }, 'unexpected ID Token \\"nonce\\" claim value'],
    ['another PKCE verifier (a stolen code)', { verifier: 'another-verifier-another-verifier-another-verifier-1234' }, 'error=invalid_grant'],
  ])('answers #error=invalid_response for %s', async (_, change, why) => {
    const b = browser(t);
    const callback = await atCallback(b);
    await tamperFlow(b, change);
    const refused = await b.callback(callback);
    expect(refused).toMatchObject({ status: 302, location: '/console#error=invalid_response' });
    expect(refused.refreshCookie).toBeUndefined();
    expect(
      t.server
        .logs()
        .split('\n')
        .filter((l) => l.includes('Sign-in with spec failed: invalid_response'))
        .pop(),
    ).toContain(why);
  });

  it.each([
    ['another issuer', (url: URL) => url.searchParams.set('iss', 'http://127.0.0.1:1/other')],
    ['no issuer (the provider advertises RFC 9207)', (url: URL) => url.searchParams.delete('iss')],
  ])('answers #error=invalid_response for an authorization response with %s in iss (RFC 9207)', async (_, tamper) => {
    const b = browser(t);
    const callback = await atCallback(b);
    expect(callback.searchParams.get('iss')).toBe(idp().issuer);
    tamper(callback);
    const refused = await b.callback(callback);
    expect(refused).toMatchObject({ status: 302, location: '/console#error=invalid_response' });
    expect(refused.refreshCookie).toBeUndefined();
    expect(t.server.logs()).toContain('Sign-in with spec failed: invalid_response');
  });

  it('answers #error=expired for a flow older than its lifetime', async () => {
    const b = browser(t);
    const callback = await atCallback(b);
    await tamperFlow(b, { expiresAt: Math.floor(Date.now() / 1000) - 1 });
    expect(await b.callback(callback)).toMatchObject({ status: 302, location: '/console#error=expired' });
  });

  it('answers #error=provider_unavailable, not a 500, when the provider goes down during the flow (and never repeats the client secret)', async () => {
    const b = browser(t);
    const callback = await atCallback(b);
    await idp().stop();
    const answer = await b.callback(callback);
    expect(answer).toMatchObject({ status: 302, location: '/console#error=provider_unavailable' });
    expect(fragmentOf(answer.location)).toEqual({ error: 'provider_unavailable' });
    expect(t.server.logs()).toContain('Sign-in with spec failed: provider_unavailable (token: TypeError: fetch failed');
    expect(t.server.logs()).not.toContain('the-client-secret-of-the-spec-provider');
  });
});
