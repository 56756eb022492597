import type { Http } from '../support/http';
import type { TestUser } from '../support/factories';
import { SoftAuthenticator, type Tamper } from '../support/soft-authenticator';

/** The origin and RP ID of the test app's default APP_URL (http://localhost:3000): where the soft authenticator "runs". */
export const ORIGIN = 'http://localhost:3000';

export const claimsOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

/** Registers a passkey of `authenticator` for the signed-in `user` (a recent token); the Passkey answered. */
export async function registerPasskey(http: Http, token: string, authenticator: SoftAuthenticator, name?: string) {
  const options = await http.post('/auth/passkeys/registration/options', undefined, { token });
  if (options.status !== 200) throw new Error(`registration options: ${options.status} ${options.text}`);
  const response = authenticator.create(options.body.options);
  const registered = await http.post('/auth/passkeys/registration', { challengeId: options.body.challengeId, response, ...(name && { name }) }, { token });
  if (registered.status !== 201) throw new Error(`registration: ${registered.status} ${registered.text}`);
  return registered.body as { id: string; name: string };
}

/** A usernameless sign-in with `authenticator`: the raw answer (and what was sent, to replay it). */
export async function passkeySignIn(http: Http, authenticator: SoftAuthenticator, tamper: Tamper = {}, headers: Record<string, string> = {}) {
  const options = await http.post('/auth/passkeys/authentication/options', {});
  if (options.status !== 200) throw new Error(`authentication options: ${options.status} ${options.text}`);
  const body = { challengeId: options.body.challengeId as string, response: authenticator.get(options.body.options, tamper) };
  return { res: await http.post('/auth/passkeys/authentication', body, { headers }), body, options: options.body.options };
}

/** A user with a passkey, and an aal2 access token from a passkey sign-in. */
export async function userWithPasskey(http: Http, user: TestUser, authenticator: SoftAuthenticator) {
  const passkey = await registerPasskey(http, user.accessToken, authenticator);
  const { res } = await passkeySignIn(http, authenticator);
  if (res.status !== 200) throw new Error(`passkey sign-in: ${res.status} ${res.text}`);
  return { passkey, aal2: res.body.accessToken as string, refreshToken: res.body.refreshToken as string };
}
