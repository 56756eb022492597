import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { Client } from 'pg';
import { SigningKeys } from '../../src/auth/keys/signing-keys.service';
import { CleanupService } from '../../src/maintenance/cleanup.service';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { Http } from '../support/http';
import { SERVER_APP_URL, ServerBuild, ServerProcess } from '../support/server-process';
import { startApp, TEST_SECRET, useApp } from '../support/test-app';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/test-database';
import { sleep, waitFor } from '../support/wait';
import { expectError } from '../security/support';

/** Tests publish a new key one second before it signs, rather than ten minutes. */
const LEAD = { SIGNING_KEY_LEAD: '1s' };
/** Never in a JWKS: the private members of EC and RSA JWKs (RFC 7518 §6.2.2, §6.3.2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;

/**
 * A relying party as the contract expects one: it verifies our tokens itself with jose,
 * from the JWKS, checking issuer, audience and `typ`. jose's defaults are a 10-minute
 * cache and a refetch on an unknown kid at most every 30 s, which SIGNING_KEY_LEAD
 * (≥ 30 s in production) outlasts; with the tests' 1 s lead the cooldown is scaled down
 * the same way (500 ms), so "never a failure" is tested in the same proportions.
 */
function relyingParty(baseUrl: string, issuer: string) {
  const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jwks.json`), { cooldownDuration: 500 });
  return (token: string) => jwtVerify(token, jwks, { issuer, audience: 'nest-auth-backend', typ: 'at+jwt', algorithms: ['ES256', 'RS256'] });
}

describe('signing keys: JWKS, rotation, revocation', () => {
  const t = useApp({ ...ADMIN_ENV, ...LEAD });
  let admin: TestUser;
  let user: TestUser;
  const keys = () => t.server.app.get(SigningKeys);
  const listKeys = async () => {
    const res = await t.http.get('/admin/keys', { token: admin.accessToken });
    expect(res.status).toBe(200);
    return res.body.items as Array<{ kid: string; alg: string; status: string; createdAt: string; activatesAt: string; retiresAt: string | null }>;
  };
  const statusOf = async (kid: string) => (await listKeys()).find((k) => k.kid === kid)?.status;
  const rotate = async () => {
    const res = await t.http.post('/admin/keys/rotate', undefined, { token: admin.accessToken });
    expect(res.status).toBe(201);
    return res.body as { kid: string; activatesAt: string };
  };
  const jwks = async () => (await t.http.get('/.well-known/jwks.json')).body.keys as Array<Record<string, unknown>>;

  beforeAll(async () => {
    admin = await newAdmin(t.http);
    user = await newUser(t.http);
  });

  it('publishes the JWKS to anyone: public keys only, cacheable for at most SIGNING_KEY_LEAD, while every other response stays no-store', async () => {
    const res = await t.http.get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const maxAge = Number(/^public, max-age=(\d+)$/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(1);
    expect(res.body).toEqual({
      keys: [{ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: kidOf(user.accessToken), alg: 'ES256', use: 'sig' }],
    });
    for (const key of res.body.keys) for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    // The override is the JWKS route's alone.
    expect((await t.http.get('/health')).headers.get('cache-control')).toBe('no-store');
    expect((await t.http.get('/auth/me', { token: user.accessToken })).headers.get('cache-control')).toBe('no-store');
    expect((await t.http.get('/.well-known/nothing')).headers.get('cache-control')).toBe('no-store');
  });

  it('refuses the admin routes without a token (401), to a user (403), and answers 404 for an unknown or malformed kid', async () => {
    for (const [method, path] of [
      ['GET', '/admin/keys'],
      ['POST', '/admin/keys/rotate'],
      ['DELETE', `/admin/keys/${kidOf(user.accessToken)}`],
    ]) {
      expectError(await t.http.request(method, path), 401);
      expectError(await t.http.request(method, path, { token: user.accessToken }), 403);
    }
    for (const kid of ['A'.repeat(43), 'not-a-kid', "x'; DROP TABLE signing_keys; --", '..%2F..%2Fetc']) {
      const res = await t.http.delete(`/admin/keys/${kid}`, { token: admin.accessToken });
      expectError(res, 404);
      expect(res.body.message).toBe('Signing key not found');
    }
    expect(await listKeys()).toEqual([
      {
        kid: kidOf(user.accessToken),
        alg: 'ES256',
        status: 'active',
        createdAt: expect.any(String),
        activatesAt: expect.any(String),
        retiresAt: null,
      },
    ]);
  });

  it('refuses to revoke the only key that can sign (409: rotate first)', async () => {
    const res = await t.http.delete(`/admin/keys/${kidOf(user.accessToken)}`, { token: admin.accessToken });
    expectError(res, 409);
    expect(res.body.message).toMatch(/rotate first/);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
  });

  it('rotates without a failure for a relying party: before, during (published, not signing) and after (signing)', async () => {
    const verify = relyingParty(t.server.baseUrl, t.server.config.auth.issuer);
    const before = await newSession(t.http, user);
    const oldKid = kidOf(before.accessToken);
    expect((await verify(before.accessToken)).payload.sub).toBe(user.id);

    const rotated = await rotate();
    expect(rotated.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.kid).not.toBe(oldKid);
    const lead = Date.parse(rotated.activatesAt) - Date.now();
    expect(lead).toBeGreaterThan(0);
    expect(lead).toBeLessThanOrEqual(1_000);
    // Published at once, not signing yet.
    expect((await jwks()).map((k) => k.kid).sort()).toEqual([oldKid, rotated.kid].sort());
    const during = await newSession(t.http, user);
    expect(kidOf(during.accessToken)).toBe(oldKid);
    expect(await statusOf(rotated.kid)).toBe('next');
    expect((await listKeys()).find((k) => k.kid === oldKid)).toMatchObject({ status: 'active', retiresAt: rotated.activatesAt });
    for (const token of [before.accessToken, during.accessToken]) expect((await verify(token)).payload.sub).toBe(user.id);

    await sleep(Math.max(0, Date.parse(rotated.activatesAt) - Date.now()) + 50);
    const after = await newSession(t.http, user);
    expect(kidOf(after.accessToken)).toBe(rotated.kid);
    expect(await statusOf(rotated.kid)).toBe('active');
    expect(await statusOf(oldKid)).toBe('retiring');
    // The relying party meets an unknown kid, refetches once, and verifies; the old tokens still verify.
    for (const token of [after.accessToken, before.accessToken, during.accessToken]) expect((await verify(token)).payload.sub).toBe(user.id);
    // And so does this server: nobody was logged out.
    for (const token of [before.accessToken, during.accessToken, after.accessToken]) {
      expect((await t.http.get('/auth/me', { token })).status).toBe(200);
    }
    // The retiring key stays published until its last token has expired.
    expect((await jwks()).map((k) => k.kid)).toContain(oldKid);

    const audit = await t.http.get('/admin/audit?type=key.rotated', { token: admin.accessToken });
    expect(audit.body.items[0]).toMatchObject({
      type: 'key.rotated',
      actorId: admin.id,
      userId: null,
      data: { kid: rotated.kid, algorithm: 'ES256', activatesAt: rotated.activatesAt },
    });
  });

  it('revokes a compromised key: its tokens get 401 at once, clients that refresh get tokens of the promoted next key', async () => {
    const verify = relyingParty(t.server.baseUrl, t.server.config.auth.issuer);
    const victim = await newSession(t.http, user);
    const compromised = kidOf(victim.accessToken);
    expect(await statusOf(compromised)).toBe('active');
    const next = await rotate(); // the key that will take over
    expect(await statusOf(next.kid)).toBe('next');

    expect((await t.http.delete(`/admin/keys/${compromised}`, { token: admin.accessToken })).status).toBe(204);
    const res = await t.http.get('/auth/me', { token: victim.accessToken });
    expectError(res, 401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await t.http.get('/auth/me', { token: admin.accessToken })).status).toBe(kidOf(admin.accessToken) === compromised ? 401 : 200);

    // Promoted at once: the next key signs now, and is what a refresh gives.
    expect(await statusOf(compromised)).toBe('revoked');
    expect(await statusOf(next.kid)).toBe('active');
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: victim.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(kidOf(refreshed.body.accessToken)).toBe(next.kid);
    expect((await t.http.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
    expect((await verify(refreshed.body.accessToken)).payload.sub).toBe(user.id);
    expect((await jwks()).map((k) => k.kid)).not.toContain(compromised);

    // Revoking it again changes nothing; the audit names the admin.
    expect((await t.http.delete(`/admin/keys/${compromised}`, { token: admin.accessToken })).status).toBe(204);
    const audit = await t.http.get('/admin/audit?type=key.revoked', { token: (await newAdmin(t.http)).accessToken });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ type: 'key.revoked', actorId: admin.id, data: { kid: compromised, promoted: next.kid } });

    // A restarted instance refuses it too (the revocation window, and the table).
    await t.restart();
    expect((await t.http.get('/auth/me', { token: victim.accessToken })).status).toBe(401);
    expect((await t.http.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
    admin = await newAdmin(t.http);
  });

  it('verifies a token once per instance, and still checks revocation on every request', async () => {
    const s = await newSession(t.http, user);
    expect((await t.http.get('/auth/me', { token: s.accessToken })).status).toBe(200);
    const verify = jest.spyOn(keys(), 'verificationKey');
    try {
      for (let i = 0; i < 5; i++) expect((await t.http.get('/auth/me', { token: s.accessToken })).status).toBe(200);
      expect(verify).not.toHaveBeenCalled();
      expect((await t.http.post('/auth/logout', undefined, { token: s.accessToken })).status).toBe(204);
      expect((await t.http.get('/auth/me', { token: s.accessToken })).status).toBe(401);
    } finally {
      verify.mockRestore();
    }
  });

  it('forgets a retired key once its last token has expired: out of the JWKS, refused, deleted by the cleanup', async () => {
    const retired = await rotate();
    const hourAgo = Date.now() - 3_600_000;
    await t.server.prisma.signingKey.update({
      where: { kid: retired.kid },
      data: { activatesAt: new Date(hourAgo - 3_600_000), retiresAt: new Date(hourAgo) },
    });
    await keys().reload();
    expect((await jwks()).map((k) => k.kid)).not.toContain(retired.kid);
    expect((await listKeys()).map((k) => k.kid)).not.toContain(retired.kid);
    const report = await t.server.app.get(CleanupService).run();
    expect(report.signingKeys).toBeGreaterThanOrEqual(1);
    expect(await t.server.prisma.signingKey.count({ where: { kid: retired.kid } })).toBe(0);
    // The revoked key of the previous test is older than nothing yet: it stays until its tokens have expired.
    expect(await t.server.prisma.signingKey.count({ where: { revokedAt: { not: null } } })).toBe(1);
    expect((await t.http.get('/auth/me', { token: (await newSession(t.http, user)).accessToken })).status).toBe(200);
  });
});

describe('signing keys at rest: sealed under AUTH_SECRET, and the secret itself rotates', () => {
  const OLD = TEST_SECRET;
  const NEW = 'the-next-server-secret-of-at-least-32-bytes!!';
  const t = useApp({ ...LEAD, REFRESH_REUSE_GRACE: '1m' });

  it('never stores a private key in clear', async () => {
    const user = await newUser(t.http);
    const row = await t.server.prisma.signingKey.findUniqueOrThrow({ where: { kid: kidOf(user.accessToken) } });
    expect(Object.keys(row.publicJwk as object).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    const pkcs8 = t.server.app.get(SigningKeys).signingKey().privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(Buffer.from(row.privateKeyEncrypted).includes(pkcs8.subarray(-32))).toBe(false);
  });

  it('keeps every token and refresh chain working through AUTH_SECRET → AUTH_SECRET_PREVIOUS, re-sealing the keys under the new secret', async () => {
    const user = await newUser(t.http);
    const kid = kidOf(user.accessToken);
    const sealedBefore = Buffer.from((await t.server.prisma.signingKey.findUniqueOrThrow({ where: { kid } })).privateKeyEncrypted);
    // A refresh just before the switch: its successor was derived under the old secret.
    const first = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(first.status).toBe(200);

    // The new secret alone cannot open the keys: the server does not start, and says what to do.
    await t.server.close();
    await expect(startApp(t.db, { ...LEAD, AUTH_SECRET: NEW })).rejects.toThrow(
      /sealed under another AUTH_SECRET: start with the AUTH_SECRET this database was created with .*the old one as AUTH_SECRET_PREVIOUS/,
    );
    await t.restart({ ...LEAD, REFRESH_REUSE_GRACE: '1m', AUTH_SECRET: NEW, AUTH_SECRET_PREVIOUS: OLD });
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect((await t.http.get('/auth/me', { token: first.body.accessToken })).status).toBe(200);
    // The concurrent-refresh grace still gives the successor the first refresh got.
    const replay = await t.http.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(replay.status).toBe(200);
    expect(replay.body.refreshToken).toBe(first.body.refreshToken);
    const sealedAfter = Buffer.from((await t.server.prisma.signingKey.findUniqueOrThrow({ where: { kid } })).privateKeyEncrypted);
    expect(sealedAfter.equals(sealedBefore)).toBe(false);

    // Re-sealed: the new secret alone is enough from now on…
    await t.restart({ ...LEAD, AUTH_SECRET: NEW });
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect((await t.http.post('/auth/refresh', { refreshToken: first.body.refreshToken })).status).toBe(200);
    // …and a server with only the old one (or any other) cannot open the keys: it does not start, and says why.
    await t.server.close();
    await expect(startApp(t.db, { ...LEAD, AUTH_SECRET: OLD })).rejects.toThrow(/^The signing keys in this database were sealed under another AUTH_SECRET: /);
    await t.restart({ ...LEAD, AUTH_SECRET: NEW });
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
  });
});

describe('SIGNING_KEY_ROTATION: keys rotate on schedule, and nobody notices', () => {
  // A new key every 3 s, published 1 s before it signs; tokens live 2 s (the shortest the rule allows is 1 s + 2 s).
  const t = useApp({ ...ADMIN_ENV, ...LEAD, ACCESS_TOKEN_TTL: '2s', SIGNING_KEY_ROTATION: '3s' });

  it('a relying party verifies every token through two scheduled rotations; the JWKS never holds more than three keys; each rotation is audited', async () => {
    const user = await newUser(t.http);
    const verify = relyingParty(t.server.baseUrl, t.server.config.auth.issuer);
    const seen = [kidOf(user.accessToken)];
    let refreshToken = user.refreshToken;
    let largestJwks = 0;
    // Refresh, as a client does, until tokens of two keys after the first have come back;
    // every token on the way must pass jose and this server alike.
    await waitFor(
      'tokens signed by two scheduled keys',
      async () => {
        const res = await t.http.post('/auth/refresh', { refreshToken });
        expect(res.status).toBe(200);
        refreshToken = res.body.refreshToken;
        const token: string = res.body.accessToken;
        expect((await verify(token)).payload.sub).toBe(user.id);
        expect((await t.http.get('/auth/me', { token })).status).toBe(200);
        largestJwks = Math.max(largestJwks, (await t.http.get('/.well-known/jwks.json')).body.keys.length);
        if (!seen.includes(kidOf(token))) seen.push(kidOf(token));
        return seen.length >= 3;
      },
      { attempts: 200, everyMs: 100 },
    );
    expect(largestJwks).toBeGreaterThan(1);
    expect(largestJwks).toBeLessThanOrEqual(3);
    // Tokens live 2 s here: an admin signed in now.
    const audit = await t.http.get('/admin/audit?type=key.rotated', { token: (await newAdmin(t.http)).accessToken });
    const scheduled = audit.body.items.filter((item: { data: { via?: string } }) => item.data.via === 'schedule');
    expect(scheduled.map((item: { data: { kid: string } }) => item.data.kid)).toEqual(expect.arrayContaining(seen.slice(1)));
    for (const item of scheduled) expect(item.actorId).toBeNull();
  });
});

describe('JWT_ALGORITHM=RS256', () => {
  const t = useApp({ ...LEAD, JWT_ALGORITHM: 'RS256' });

  it('signs with an RSA key, publishes it, and a relying party verifies it', async () => {
    const user = await newUser(t.http);
    const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: expect.any(String) });
    const { keys } = (await t.http.get('/.well-known/jwks.json')).body;
    expect(keys).toEqual([{ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: header.kid, alg: 'RS256', use: 'sig' }]);
    expect((await relyingParty(t.server.baseUrl, t.server.config.auth.issuer)(user.accessToken)).payload.sub).toBe(user.id);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(200);
  });
});

// Two real server processes (two Nest apps in one jest process would share passport's
// strategy registry): a key change on A reaches B through NOTIFY, with no restart.
describeOnPostgres('signing keys across instances sharing one PostgreSQL database', () => {
  let db: TestDatabase;
  let build: ServerBuild;
  let a: ServerProcess;
  let b: ServerProcess;
  let httpA: Http;
  let httpB: Http;
  // NODE_ENV=test: the only way to a 1 s lead (production insists on 30 s or more).
  const env = { NODE_ENV: 'test', ...LEAD };

  beforeAll(async () => {
    db = await createTestDatabase();
    build = ServerBuild.create();
    [a, b] = await Promise.all([ServerProcess.start(build, db, { ...env, ...ADMIN_ENV }), ServerProcess.start(build, db, env)]);
    httpA = new Http(a.baseUrl);
    httpB = new Http(b.baseUrl);
  }, 180_000);
  afterAll(async () => {
    await ServerProcess.killAll();
    build?.remove();
    await db.drop();
  });

  const kidsOf = async (http: Http) => ((await http.get('/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((k) => k.kid).sort();

  it('two instances starting together on an empty database made one key, and serve the same JWKS', async () => {
    const pg = new Client({ connectionString: db.env.DATABASE_URL });
    await pg.connect();
    try {
      expect((await pg.query('SELECT count(*)::int AS n FROM signing_keys')).rows[0].n).toBe(1);
    } finally {
      await pg.end();
    }
    expect(await kidsOf(httpA)).toEqual(await kidsOf(httpB));
  });

  it('a rotation on A is published by B at once, and used by B once it activates, without a restart', async () => {
    const admin = await newAdmin(httpA);
    const user = await newUser(httpA);
    const oldKid = kidOf(user.accessToken);
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    const verifyWithB = relyingParty(b.baseUrl, SERVER_APP_URL);
    expect((await verifyWithB(user.accessToken)).payload.sub).toBe(user.id);

    const rotated = (await httpA.post('/admin/keys/rotate', undefined, { token: admin.accessToken })).body as { kid: string; activatesAt: string };
    await waitFor('B to publish the new key', async () => (await kidsOf(httpB)).includes(rotated.kid), { attempts: 50, everyMs: 20 });

    await sleep(Math.max(0, Date.parse(rotated.activatesAt) - Date.now()) + 50);
    const onB = await newSession(httpB, user);
    expect(kidOf(onB.accessToken)).toBe(rotated.kid);
    const onA = await newSession(httpA, user);
    expect(kidOf(onA.accessToken)).toBe(rotated.kid);
    for (const http of [httpA, httpB]) {
      for (const token of [user.accessToken, onA.accessToken, onB.accessToken]) expect((await http.get('/auth/me', { token })).status).toBe(200);
    }
    for (const token of [user.accessToken, onA.accessToken, onB.accessToken]) expect((await verifyWithB(token)).payload.sub).toBe(user.id);
    expect(await kidsOf(httpB)).toEqual([oldKid, rotated.kid].sort());
  });

  it('a revocation on A is refused by B at once, and B’s refreshes give tokens of the promoted key', async () => {
    const admin = await newAdmin(httpA);
    const user = await newUser(httpA);
    const compromised = kidOf(user.accessToken);
    const next = (await httpA.post('/admin/keys/rotate', undefined, { token: admin.accessToken })).body as { kid: string };
    await waitFor('B to publish the next key', async () => (await kidsOf(httpB)).includes(next.kid), { attempts: 50, everyMs: 20 });
    expect((await httpB.get('/auth/me', { token: user.accessToken })).status).toBe(200);

    expect((await httpA.delete(`/admin/keys/${compromised}`, { token: admin.accessToken })).status).toBe(204);
    expect((await httpA.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    await waitFor('B to refuse the revoked key', async () => (await httpB.get('/auth/me', { token: user.accessToken })).status === 401, {
      attempts: 50,
      everyMs: 20,
    });
    const refreshed = await httpB.post('/auth/refresh', { refreshToken: user.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(kidOf(refreshed.body.accessToken)).toBe(next.kid);
    for (const http of [httpA, httpB]) expect((await http.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
    expect(await kidsOf(httpB)).not.toContain(compromised);
  });
});
