// A real OpenID Connect provider for the specs (oidc-provider 9), on loopback, in a process
// of its own (ESM; Jest's module loader never sees it). Driven over IPC by
// oidc-provider-process.ts: the spec defines accounts (their claims: email,
// email_verified, name) and says how the next interaction ends (which account signs in,
// with which acr/amr, or a denied consent). No forms: the interaction URL ends the
// interaction at once, so a plain HTTP client (or a browser) passes straight through.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const { OIDC_TEST_CLIENT_ID: clientId, OIDC_TEST_CLIENT_SECRET: clientSecret } = process.env;
const accounts = new Map();
let next = { account: undefined, deny: false };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      // Any port: the app under test listens on a random one (see redirectUriAllowed below).
      redirect_uris: ['http://127.0.0.1/auth/oidc/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // acr and amr under openid: in every ID token the login gave them (Keycloak's way), not only when asked for.
  claims: { auth_time: null, iss: null, sid: null, openid: ['sub', 'acr', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
  // The email in the ID token itself, as Google and Keycloak send it.
  conformIdTokenClaims: false,
  cookies: { keys: ['oidc-provider-spec-cookie-key'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (_ctx, id) => (accounts.has(id) ? { accountId: id, claims: () => ({ sub: id, ...accounts.get(id) }) } : undefined),
  pkce: { required: () => true },
});
const { redirectUriAllowed } = provider.Client.prototype;
provider.Client.prototype.redirectUriAllowed = function (value) {
  return /^http:\/\/127\.0\.0\.1:\d+\/auth\/oidc\/[a-z0-9_-]+\/callback$/.test(value) || redirectUriAllowed.call(this, value);
};

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (next.deny)
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person declined' }, { mergeWithLastSubmission: false });
  const accountId = next.account;
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  grant.addOIDCClaims(['email', 'email_verified', 'name']);
  const login = { accountId, ...(next.acr && { acr: next.acr }), ...(next.amr && { amr: next.amr }) };
  await provider.interactionFinished(req, res, { login, consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  } else callback(req, res);
});

process.on('message', (message) => {
  if (message.type === 'account') accounts.set(message.id, message.claims);
  if (message.type === 'next') next = message.next;
  process.send({ type: 'ok', seq: message.seq });
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', issuer });
