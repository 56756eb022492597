import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { toCanonicalEs256 } from '@nest-auth-backend/token-contract';
import { exportJWK, SignJWT } from 'jose';
import { AuthClient } from './auth-client.service';

const KID = 'k'.repeat(43);
const ISSUER = 'http://auth.test';
const AUDIENCE = 'nest-auth-backend';
const USER = '0000000a-0000-4000-8000-000000000001';
const SESSION = '0000000a-0000-4000-8000-0000000000a1';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** An access token as the auth server signs it, with these claims besides the core ones. */
async function accessToken(extra: Record<string, unknown> = {}): Promise<string> {
  const token = await new SignJWT({ sid: SESSION, ver: 0, role: 'USER', ...extra })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: KID })
    .setSubject(USER)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('15m')
    .setJti('0000000a-0000-4000-8000-0000000000f1')
    .sign(privateKey);
  return toCanonicalEs256(token);
}

/** The auth server's side: the JWKS, a feed that says `ready` and beats, and an introspection answer the spec sets. */
async function authServer() {
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  const feeds: ServerResponse[] = [];
  const state = { introspection: { active: false } as Record<string, unknown>, feeds };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    if (req.url === '/auth/introspect') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.introspection));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    res.write(`event: ready\ndata: {"windowMs":60000,"at":${Date.now()}}\n\n`);
    feeds.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const beat = setInterval(() => feeds.forEach((feed) => feed.write(`event: heartbeat\ndata: {"at":${Date.now()}}\n\n`)), 50);
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    state,
    close: async () => {
      clearInterval(beat);
      feeds.forEach((feed) => feed.destroy());
      // The JWKS and introspection requests' keep-alive connections too.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('AuthClient: how the user signed in (auth_time, amr, acr)', () => {
  let server: Awaited<ReturnType<typeof authServer>>;
  let client: AuthClient;
  const authentication = { auth_time: Math.floor(Date.now() / 1000) - 60, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' };
  const user = { id: USER, sessionId: SESSION, role: 'USER' };

  beforeAll(async () => {
    server = await authServer();
    client = new AuthClient({ issuer: ISSUER, audience: AUDIENCE, serverUrl: server.url, clientId: 'c', clientSecret: 's', maxStalenessMs: 1000 });
  });
  afterAll(async () => {
    client.onModuleDestroy();
    await server.close();
  });

  it('while introspecting: from the answer when it has them, none otherwise', async () => {
    server.state.introspection = { active: true, sub: USER, sid: SESSION, role: 'USER' };
    expect(await client.check(await accessToken())).toEqual({ user });
    server.state.introspection = { active: true, sub: USER, sid: SESSION, role: 'USER', ...authentication };
    expect(await client.check(await accessToken(authentication))).toEqual({
      user,
      authentication: { authTime: authentication.auth_time, amr: authentication.amr, acr: 'aal2' },
    });
  });

  it('from memory: from the token when it has them (all three), none for a token issued before', async () => {
    client.onModuleInit();
    await until(() => client.live);
    expect(await client.check(await accessToken())).toEqual({ user });
    expect(await client.check(await accessToken({ ...authentication, scope: 'ignored' }))).toEqual({
      user,
      authentication: { authTime: authentication.auth_time, amr: authentication.amr, acr: 'aal2' },
    });
    await expect(client.check(await accessToken({ auth_time: authentication.auth_time }))).rejects.toThrow('Invalid access token');
    await expect(client.check(await accessToken({ ...authentication, acr: 'aal3' }))).rejects.toThrow('Invalid access token');
    expect(client.introspections).toBe(2);
  });
});
