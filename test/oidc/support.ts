import { randomBytes } from 'node:crypto';
import { OidcBrowser, OidcTestProvider, type ProviderAccount } from '../support/oidc-provider-process';
import { useApp, type AppUnderTest } from '../support/test-app';

/** Nothing listens here: a provider whose discovery fails. */
export const UNREACHABLE_ISSUER = 'http://127.0.0.1:9';

/**
 * The app with a real provider (`spec`) and an unreachable one (`down`). The provider
 * starts first: the app's OIDC_PROVIDERS needs its issuer.
 */
export function useAppWithProvider(env: Record<string, string> = {}): { t: AppUnderTest; idp: () => OidcTestProvider } {
  // The caller's object itself: a mail catcher fills SMTP_URL into it in its own beforeAll.
  const settings = env;
  let idp: OidcTestProvider | undefined;
  beforeAll(async () => {
    idp = await OidcTestProvider.start();
    settings.OIDC_PROVIDERS = JSON.stringify([idp.entry(), { id: 'down', name: 'Down', issuer: UNREACHABLE_ISSUER, clientId: 'x', clientSecret: 'y' }]);
  });
  const t = useApp(settings);
  afterAll(async () => {
    await idp?.stop();
  });
  return { t, idp: () => idp! };
}

let counter = 0;

/** An account at the provider, and the next interaction signs it in; its subject and email. */
export async function providerAccount(idp: OidcTestProvider, claims: ProviderAccount = {}): Promise<{ sub: string; email: string }> {
  const sub = `sub-${++counter}-${randomBytes(4).toString('hex')}`;
  const email = claims.email ?? `${sub}@example.org`;
  await idp.account(sub, { email, email_verified: true, name: 'Provider Person', ...claims });
  await idp.next({ account: sub });
  return { sub, email };
}

export const browser = (t: AppUnderTest) => new OidcBrowser(t.server.baseUrl);

/** Signs in at the provider as a new account there (made here at its first sign-in): the user and a fresh access token. */
export async function signedInWithProvider(t: AppUnderTest, idp: OidcTestProvider, claims: ProviderAccount = {}) {
  const { sub, email } = await providerAccount(idp, claims);
  const signedIn = await browser(t).signIn('spec');
  if (!signedIn.refreshCookie) throw new Error(`sign-in failed: ${signedIn.location}`);
  const refreshed = await t.http.post('/auth/refresh', {}, { headers: { 'x-auth-mode': 'cookie', cookie: `refresh_token=${signedIn.refreshCookie}` } });
  return { sub, email, userId: refreshed.body.user.id as string, accessToken: refreshed.body.accessToken as string };
}
