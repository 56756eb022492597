import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { isCanonicalEs256 } from '@nest-auth-backend/token-contract';
import { compactVerify } from 'jose';
import { SigningKeys } from '../../src/auth/keys/signing-keys.service';
import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { TEST_SECRET, useApp } from '../support/test-app';
import { b64url, es256, expectError, forge, highSTwin, hmac, ps256, rawRequest, rs256, split, startTripwire, type Signer, type Tripwire } from './support';

/**
 * Forged and bent access tokens against GET /auth/me (RFC 8725, OWASP ASVS 5 V9). Every
 * one must get a 401 in the NestJS error shape, never a 500, and the genuine token must
 * keep working after each attack. Tokens are made by hand with node:crypto; the "real"
 * ones are signed with the server's own private key (ES256), taken from the running app.
 */
describe('JWT attacks on a bearer-protected route', () => {
  const t = useApp(ADMIN_ENV);
  let user: TestUser;
  let genuine: { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string; rawHeader: string; rawPayload: string };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  /** The server's signing key of the genuine token: private (to sign "real" tokens) and public (for confusion attacks). */
  let serverKey: { privateKey: KeyObject; publicKey: KeyObject; kid: string };
  /** Signs with the server's real key: the signature the verifier must accept, on claims or headers it must not. */
  let real: Signer;
  /** The genuine header with changes: `{ alg: "ES256", typ: "at+jwt", kid }` by default. */
  const headerWith = (changes: Record<string, unknown> = {}) => ({ ...genuine.header, ...changes });

  const me = (token: string, headers: Record<string, string> = {}) => t.http.get('/auth/me', { token, headers });
  const refused = async (token: string) => {
    const res = await me(token);
    expectError(res, 401);
    return res;
  };
  /** The genuine claims, with changes, signed with the server's real key. */
  const realSigned = (changes: Record<string, unknown> = {}, header: Record<string, unknown> = genuine.header) =>
    forge(header, { ...genuine.payload, ...changes }, real);
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    user = await newUser(t.http);
    genuine = split(user.accessToken);
    const key = t.server.app.get(SigningKeys).verificationKey(genuine.header.kid as string)!;
    serverKey = { privateKey: key.privateKey, publicKey: key.publicKey, kid: key.kid };
    real = es256(serverKey.privateKey);
  });

  afterEach(async () => {
    // Whatever was tried, the genuine token is untouched.
    expect((await me(user.accessToken)).status).toBe(200);
  });

  it('accepts the genuine token, and a token re-signed with the real key (the forging helper is right)', async () => {
    expect((await me(user.accessToken)).body.id).toBe(user.id);
    expect(genuine.header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: serverKey.kid });
    expect((await me(realSigned())).status).toBe(200);
  });

  it('refuses an access token of the scheme before asymmetric keys: HS256 under the server secret, as it was issued', async () => {
    // What every client held at the upgrade: refused (401), the client refreshes; HS256 never verifies anything now.
    await refused(forge({ alg: 'HS256', typ: 'JWT' }, genuine.payload, hmac(TEST_SECRET)));
    await refused(forge(headerWith({ alg: 'HS256' }), genuine.payload, hmac(TEST_SECRET)));
  });

  describe('alg: none and algorithm confusion', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg "%s", with and without a signature', async (alg) => {
      for (const header of [headerWith({ alg }), { alg, typ: 'JWT' }]) {
        await refused(forge(header, genuine.payload, ''));
        await refused(`${b64url(header)}.${genuine.rawPayload}`);
        await refused(forge(header, genuine.payload, genuine.signature));
        await refused(forge(header, genuine.payload, real));
      }
    });

    it.each([
      ['an empty key', ''],
      ['"secret"', 'secret'],
      ['"password"', 'password'],
      ['the issuer name', 'nest-auth-backend'],
      ['jwt.io’s example key', 'your-256-bit-secret'],
      ['the server secret', TEST_SECRET],
    ])('refuses HS256 signed with %s', async (_, key) => {
      await refused(forge(headerWith({ alg: 'HS256' }), genuine.payload, hmac(key)));
    });

    it('refuses HS384 and HS512, even signed with the server secret, and an alg spelled "es256" over a real signature', async () => {
      await refused(forge(headerWith({ alg: 'HS384' }), genuine.payload, hmac(TEST_SECRET, 'sha384')));
      await refused(forge(headerWith({ alg: 'HS512' }), genuine.payload, hmac(TEST_SECRET, 'sha512')));
      await refused(forge(headerWith({ alg: 'es256' }), genuine.payload, real));
    });

    it('refuses RS256, PS256 and ES256 tokens signed with an attacker’s key pair, with our kid or another', async () => {
      for (const kid of [serverKey.kid, 'attacker', thumbprintLike()]) {
        await refused(forge(headerWith({ alg: 'RS256', kid }), genuine.payload, rs256(rsa.privateKey)));
        await refused(forge(headerWith({ alg: 'PS256', kid }), genuine.payload, ps256(rsa.privateKey)));
        await refused(forge(headerWith({ alg: 'ES256', kid }), genuine.payload, es256(ec.privateKey)));
      }
    });

    it('refuses a token signed by a key that was never ours, under the kid of ours (right kid, wrong key)', async () => {
      await refused(forge(genuine.header, genuine.payload, es256(ec.privateKey)));
      await refused(forge(genuine.header, { ...genuine.payload, role: 'ADMIN' }, es256(ec.privateKey)));
    });

    it('refuses HS256 "signed" with the server’s own public key as the HMAC secret (algorithm confusion), in every encoding', async () => {
      const ours = serverKey.publicKey;
      const jwks = await t.http.get('/.well-known/jwks.json');
      const published = (jwks.body.keys as Array<Record<string, unknown>>).find((k) => k.kid === serverKey.kid)!;
      expect(published).toBeDefined();
      const secrets: Array<string | Buffer> = [
        ours.export({ type: 'spki', format: 'pem' }),
        ours.export({ type: 'spki', format: 'der' }),
        JSON.stringify(ours.export({ format: 'jwk' })),
        JSON.stringify(published),
        JSON.stringify(jwks.body),
        Buffer.from(published.x as string, 'base64url'),
        rsa.publicKey.export({ type: 'spki', format: 'pem' }),
        rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }),
      ];
      for (const secret of secrets) {
        await refused(forge(headerWith({ alg: 'HS256' }), genuine.payload, hmac(secret)));
        await refused(forge({ alg: 'HS256', typ: 'JWT' }, genuine.payload, hmac(secret)));
        await refused(forge(headerWith({ alg: 'RS256' }), genuine.payload, hmac(secret)));
      }
    });
  });

  describe('kids that name no key we verify with', () => {
    it('refuses an unknown kid (well-formed, any case, trailing space) even over a real signature', async () => {
      for (const kid of [thumbprintLike(), serverKey.kid.toLowerCase(), serverKey.kid.toUpperCase(), `${serverKey.kid} `, `${serverKey.kid.slice(1)}A`]) {
        if (kid === serverKey.kid) continue;
        await refused(forge(headerWith({ kid }), genuine.payload, real));
      }
      await refused(forge(headerWith({ kid: '' }), genuine.payload, real));
      await refused(forge(headerWith({ kid: 1 }), genuine.payload, real));
      await refused(forge(headerWith({ kid: [serverKey.kid] }), genuine.payload, real));
      await refused(forge(headerWith({ kid: null }), genuine.payload, real));
    });

    it('refuses a revoked key’s tokens at once, and a retired key’s once its last token has expired', async () => {
      const admin = await newAdmin(t.http);
      const keys = t.server.app.get(SigningKeys);
      const rotate = async () => {
        const res = await t.http.post('/admin/keys/rotate', undefined, { token: admin.accessToken });
        expect(res.status).toBe(201);
        return keys.verificationKey(res.body.kid)!;
      };
      const headerOf = (kid: string) => headerWith({ kid });

      // A published key (next) verifies its tokens; revoked, it verifies nothing, at once.
      const doomed = await rotate();
      const doomedToken = forge(headerOf(doomed.kid), genuine.payload, es256(doomed.privateKey));
      expect((await me(doomedToken)).status).toBe(200);
      expect((await t.http.delete(`/admin/keys/${doomed.kid}`, { token: admin.accessToken })).status).toBe(204);
      await refused(doomedToken);
      await refused(forge(headerOf(doomed.kid), { ...genuine.payload, jti: randomUUID() }, es256(doomed.privateKey)));

      // A key retired (its successor activated) longer than ACCESS_TOKEN_TTL ago: nothing it signed can be valid.
      const old = await rotate();
      const oldToken = forge(headerOf(old.kid), genuine.payload, es256(old.privateKey));
      expect((await me(oldToken)).status).toBe(200);
      const hourAgo = new Date(Date.now() - 3_600_000);
      await t.server.prisma.signingKey.update({
        where: { kid: old.kid },
        data: { activatesAt: new Date(hourAgo.getTime() - 3_600_000), retiresAt: hourAgo },
      });
      await keys.reload();
      await refused(oldToken);
      await refused(forge(headerOf(old.kid), { ...genuine.payload, iat: now(), exp: now() + 600 }, es256(old.privateKey)));
      const published = (await t.http.get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
      expect(published).toContain(serverKey.kid);
      expect(published).not.toContain(old.kid);
      expect(published).not.toContain(doomed.kid);
    });
  });

  describe('signature and payload tampering', () => {
    it('refuses a truncated, an emptied and a one-character-flipped signature', async () => {
      const [h, p, s] = user.accessToken.split('.');
      await refused(`${h}.${p}.${s.slice(0, -1)}`);
      await refused(`${h}.${p}.${s.slice(0, 20)}`);
      await refused(`${h}.${p}.`);
      await refused(`${h}.${p}`);
      const flip = (c: string) => (c === 'A' ? 'B' : 'A');
      for (const i of [0, 10, s.length - 2]) await refused(`${h}.${p}.${s.slice(0, i)}${flip(s[i])}${s.slice(i + 1)}`);
    });

    it('issues every ES256 token in one spelling, and refuses its high-s twin and a re-spelled signature, though both verify', async () => {
      const admin = await newAdmin(t.http);
      const client = (await t.http.post('/admin/clients', { name: 'introspecting' }, { token: admin.accessToken })).body;
      const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
      const introspect = async (token: string) => {
        const res = await t.http.post('/auth/introspect', new URLSearchParams({ token }).toString(), {
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect(res.status).toBe(200);
        return res;
      };
      const tokens = [user.accessToken];
      for (let i = 0; i < 24; i++) tokens.push((await newSession(t.http, user)).accessToken);
      expect(tokens.filter((token) => !isCanonicalEs256(token))).toEqual([]);
      for (const token of tokens.slice(0, 4)) {
        const twin = highSTwin(token);
        // Not a forgery: the same claims under a signature an independent verifier accepts.
        await expect(compactVerify(twin, serverKey.publicKey)).resolves.toBeDefined();
        await refused(twin);
        expect((await introspect(token)).body).toMatchObject({ active: true });
        expect((await introspect(twin)).body).toEqual({ active: false });
        const last = token.at(-1)!;
        const respelled = `${token.slice(0, -1)}${last === 'A' ? 'B' : String.fromCharCode(last.charCodeAt(0) + 1)}`;
        if (Buffer.from(respelled.split('.')[2], 'base64url').equals(Buffer.from(token.split('.')[2], 'base64url'))) await refused(respelled);
      }
    });

    it('refuses the payload changed under the original signature (sub, role, sid, ver)', async () => {
      const victim = await newUser(t.http);
      const victimClaims = split(victim.accessToken).payload;
      for (const changes of [
        { sub: victim.id },
        { role: 'ADMIN' },
        { sid: victim.sessionId },
        { ver: 7 },
        { sub: victim.id, sid: victim.sessionId },
        { exp: (genuine.payload.exp as number) + 86_400 },
      ]) {
        await refused(forge(genuine.header, { ...genuine.payload, ...changes }, genuine.signature));
      }
      // The victim's own signature over the attacker's claims does not help either.
      await refused(forge(genuine.header, { ...victimClaims, role: 'ADMIN' }, split(victim.accessToken).signature));
    });

    it.each([
      ['two segments', (tok: string) => tok.split('.').slice(0, 2).join('.')],
      ['four segments', (tok: string) => `${tok}.${tok.split('.')[2]}`],
      ['the five segments of a JWE', (tok: string) => `${tok}.AAAA.BBBB`],
      ['a header that is not JSON', (tok: string) => `${b64url('{alg:ES256')}.${tok.split('.').slice(1).join('.')}`],
      ['a payload that is not JSON', () => forge(genuine.header, 'not json', real)],
      ['a JSON array as payload', () => forge(genuine.header, '[1,2]', real)],
      ['a JSON string as payload', () => forge(genuine.header, '"sub"', real)],
      ['a JSON array as header', (tok: string) => `${b64url('["ES256"]')}.${tok.split('.').slice(1).join('.')}`],
      ['base64 with padding and +/', (tok: string) => tok.replace(/-/g, '+').replace(/_/g, '/') + '=='],
      ['non-ASCII in a segment', (tok: string) => `${tok.slice(0, 10)}é${tok.slice(11)}`],
      ['an 8 KB token', (tok: string) => tok + 'A'.repeat(8192)],
      ['three dots', () => '...'],
    ])('refuses a malformed token: %s', async (_, mangle) => {
      await refused(mangle(user.accessToken));
    });
  });

  describe('key-locating headers (jwk, jku, x5u, x5c, kid): used for nothing, fetched from nowhere', () => {
    let tripwire: Tripwire;
    const attackerJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'RS256', use: 'sig' };
    beforeAll(async () => {
      tripwire = await startTripwire(() => JSON.stringify({ keys: [attackerJwk] }));
    });
    afterAll(() => tripwire.close());

    it('refuses an embedded jwk (RSA and EC public keys, an oct key holding the attacker’s HMAC secret, our own public key)', async () => {
      await refused(forge(headerWith({ alg: 'RS256', jwk: attackerJwk }), genuine.payload, rs256(rsa.privateKey)));
      await refused(forge(headerWith({ jwk: ec.publicKey.export({ format: 'jwk' }) }), genuine.payload, es256(ec.privateKey)));
      const secret = randomBytes(32);
      await refused(forge(headerWith({ alg: 'HS256', jwk: { kty: 'oct', k: secret.toString('base64url') } }), genuine.payload, hmac(secret)));
      // Even our own key, over a real signature: a key-locating header has no place in our tokens.
      await refused(forge(headerWith({ jwk: serverKey.publicKey.export({ format: 'jwk' }) }), genuine.payload, real));
    });

    it('refuses jku and x5u pointing at an attacker’s server, and never fetches them', async () => {
      const variants = [
        headerWith({ alg: 'RS256', jku: `${tripwire.url}/jwks.json`, kid: 'attacker' }),
        headerWith({ alg: 'RS256', jku: `${tripwire.url}/jwks.json` }),
        headerWith({ alg: 'RS256', x5u: `${tripwire.url}/cert.pem` }),
        headerWith({ alg: 'HS256', jku: `${tripwire.url}/jwks.json` }),
        headerWith({ alg: 'HS256', x5u: `${tripwire.url}/cert.pem` }),
        { alg: 'RS256', typ: 'JWT', jku: `${tripwire.url}/jwks.json`, kid: 'attacker' },
      ];
      for (const header of variants) {
        await refused(forge(header, genuine.payload, header.alg === 'RS256' ? rs256(rsa.privateKey) : hmac('attacker')));
        // Signed with the real key too: a key-locating header has no place in our tokens.
        await refused(forge({ ...header, alg: 'ES256' }, genuine.payload, real));
      }
      // A fetch would have to happen while verifying, i.e. before the 401 went out; the
      // wait only lets a (buggy) fire-and-forget fetch land before we look.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(tripwire.requests).toEqual([]);
    });

    it('refuses an x5c chain it cannot use', async () => {
      const der = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      await refused(forge(headerWith({ alg: 'RS256', x5c: [der] }), genuine.payload, rs256(rsa.privateKey)));
      const ours = serverKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      await refused(forge(headerWith({ x5c: [ours] }), genuine.payload, real));
    });

    it('refuses kid path traversal signed with the empty key of /dev/null', async () => {
      for (const kid of ['../../../../dev/null', '/dev/null', '../../../../../../etc/passwd', 'file:///dev/null']) {
        await refused(forge(headerWith({ alg: 'HS256', kid }), genuine.payload, hmac('')));
        await refused(forge(headerWith({ kid }), genuine.payload, real));
      }
    });

    it('refuses kid SQL injection', async () => {
      for (const kid of ["' OR '1'='1", "x' UNION SELECT 'attacker-key' --", '1; DROP TABLE users; --', "x'; DELETE FROM signing_keys; --"]) {
        await refused(forge(headerWith({ alg: 'HS256', kid }), genuine.payload, hmac('attacker-key')));
        await refused(forge(headerWith({ alg: 'HS256', kid }), genuine.payload, hmac('')));
        await refused(forge(headerWith({ kid }), genuine.payload, real));
      }
      expect(await t.server.prisma.user.count({ where: { id: user.id } })).toBe(1);
      expect(await t.server.prisma.signingKey.count({ where: { kid: serverKey.kid } })).toBe(1);
    });

    it('refuses kid shell injection, and runs nothing', async () => {
      const marker = join(tmpdir(), `pwned-${randomBytes(6).toString('hex')}`);
      rmSync(marker, { force: true });
      for (const kid of [`$(touch ${marker})`, `\`touch ${marker}\``, `x; touch ${marker}`, `x | touch ${marker}`]) {
        await refused(forge(headerWith({ alg: 'HS256', kid }), genuine.payload, hmac('')));
        await refused(forge(headerWith({ kid }), genuine.payload, real));
      }
      expect(existsSync(marker)).toBe(false);
      expect(existsSync('/tmp/pwned')).toBe(false);
    });
  });

  describe('time and audience claims (signed with the real key)', () => {
    it('refuses an expired token, one not yet valid, and one without exp', async () => {
      const expired = await refused(realSigned({ iat: now() - 1000, exp: now() - 100 }));
      expect(expired.body.message).toBe('Access token expired');
      await refused(realSigned({ nbf: now() + 3600 }));
      const { exp: _exp, ...noExp } = genuine.payload;
      await refused(forge(genuine.header, noExp, real));
    });

    it('refuses a token issued in the future, and one whose lifetime exceeds ACCESS_TOKEN_TTL', async () => {
      await refused(realSigned({ iat: now() + 3600, exp: now() + 3600 + 900 }));
      await refused(realSigned({ iat: now(), exp: now() + 30 * 86_400 }));
      const { iat: _iat, ...noIat } = genuine.payload;
      await refused(forge(genuine.header, noIat, real));
    });

    it('refuses a wrong iss, a missing aud and a wrong aud', async () => {
      await refused(realSigned({ iss: 'https://evil.example.com' }));
      const { iss: _iss, ...noIss } = genuine.payload;
      await refused(forge(genuine.header, noIss, real));
      const { aud: _aud, ...noAud } = genuine.payload;
      await refused(forge(genuine.header, noAud, real));
      await refused(realSigned({ aud: 'another-service' }));
      await refused(realSigned({ aud: ['another-service'] }));
    });
  });

  describe('every claim replaced by a value of the wrong type or form (signed with the real key)', () => {
    // A user whose refreshTokenVersion is 1, so that ver=0 is a stale version, not the genuine one.
    let bumped: { token: string; payload: Record<string, unknown> };
    beforeAll(async () => {
      const u = await newUser(t.http);
      await t.http.post('/auth/logout-all', undefined, { token: u.accessToken });
      const s = await newSession(t.http, u);
      bumped = { token: s.accessToken, payload: split(s.accessToken).payload };
      expect(bumped.payload.ver).toBe(1);
    });

    const CLAIMS = ['sub', 'sid', 'ver', 'role', 'iat', 'exp', 'iss', 'aud', 'jti'] as const;
    /** A string that is not the genuine value: upper/lower-cased strings, stringified numbers. */
    const otherString = (v: unknown) => (typeof v === 'number' ? String(v) : v === 'USER' ? 'user' : (v as string).toUpperCase());
    const VALUES: Array<[string, (genuineValue: unknown) => unknown]> = [
      ['null', () => null],
      ['true', () => true],
      ['false', () => false],
      ['0', () => 0],
      ['a string', otherString],
      ['an array', (v) => [v]],
      ['an object', (v) => ({ value: v })],
    ];
    const cases = CLAIMS.flatMap((claim) => VALUES.map(([label, make]) => [claim, label, make] as const));

    it('accepts the untouched re-signed token of that user', async () => {
      expect((await me(forge(genuine.header, bumped.payload, real))).status).toBe(200);
    });

    it.each(cases)('refuses %s = %s', async (claim, _label, make) => {
      const payload = { ...bumped.payload, [claim]: make(bumped.payload[claim]) };
      await refused(forge(genuine.header, payload, real));
    });

    it('refuses claims this server never issues (extra claims, a __proto__ key)', async () => {
      await refused(forge(genuine.header, { ...bumped.payload, admin: true }, real));
      const proto = JSON.stringify(bumped.payload).replace(/^\{/, '{"__proto__":{"role":"ADMIN"},');
      await refused(forge(genuine.header, proto, real));
    });
  });

  describe('the sign-in claims (auth_time, amr, acr) bent, signed with the real key', () => {
    it('accepts them as issued, and an auth_time up to the clock skew after iat (a session opened on an instance whose clock runs ahead)', async () => {
      expect(genuine.payload).toMatchObject({ auth_time: expect.any(Number), amr: ['pwd'], acr: 'aal1' });
      expect((await me(realSigned({ auth_time: (genuine.payload.iat as number) + 30 }))).status).toBe(200);
      expect((await me(realSigned({ amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' }))).status).toBe(200);
    });

    it.each([
      ['auth_time', 'a string', (p: Record<string, unknown>) => String(p.auth_time)],
      ['auth_time', 'a fraction', (p: Record<string, unknown>) => (p.auth_time as number) + 0.5],
      ['auth_time', 'negative', () => -1],
      ['auth_time', 'an hour after iat', (p: Record<string, unknown>) => (p.iat as number) + 3600],
      ['auth_time', 'null', () => null],
      ['amr', 'a string', () => 'pwd'],
      ['amr', 'empty', () => []],
      ['amr', 'a nested array', () => [['pwd']]],
      ['amr', 'a number in it', () => [1]],
      ['amr', 'an upper-case value', () => ['PWD']],
      ['amr', 'too many values', () => Array.from({ length: 9 }, () => 'pwd')],
      ['amr', 'an object', () => ({ 0: 'pwd' })],
      ['acr', 'a level we do not issue', () => 'aal3'],
      ['acr', 'another spelling', () => 'AAL1'],
      ['acr', 'a number', () => 1],
      ['acr', 'an array', () => ['aal1']],
    ])('refuses %s = %s', async (claim, _label, make) => {
      await refused(realSigned({ [claim]: make(genuine.payload) }));
    });

    it.each(['auth_time', 'amr', 'acr'])('refuses a token without %s (as every token issued before the claims existed)', async (claim) => {
      const { [claim]: _gone, ...payload } = genuine.payload;
      await refused(forge(genuine.header, payload, real));
    });
  });

  describe('typ, cty and other header tricks on a token signed with the real key', () => {
    it.each([
      ['typ JWT (the typ before RFC 9068)', { typ: 'JWT' }],
      ['typ JWE', { typ: 'JWE' }],
      ['typ AT+JWT (another spelling)', { typ: 'AT+JWT' }],
      ['typ application/at+jwt (a spelling we never issue)', { typ: 'application/at+jwt' }],
      ['typ refresh', { typ: 'refresh+jwt' }],
      ['typ logout+jwt (a back-channel logout token)', { typ: 'logout+jwt' }],
      ['cty JWT (a nested token)', { cty: 'JWT' }],
      ['crit with an unknown extension', { crit: ['exp-ext'], 'exp-ext': true }],
      ['b64 false (RFC 7797)', { b64: false, crit: ['b64'] }],
      ['enc (looks like a JWE)', { enc: 'A256GCM' }],
      ['no typ', { typ: undefined }],
      ['no kid', { kid: undefined }],
    ])('refuses %s', async (_, changes) => {
      await refused(forge(JSON.parse(JSON.stringify(headerWith(changes))), genuine.payload, real));
    });

    it('refuses a nested JWT: the genuine token as the payload of an outer token', async () => {
      await refused(forge(headerWith({ cty: 'JWT' }), user.accessToken, real));
      await refused(forge(genuine.header, user.accessToken, real));
      await refused(forge({ alg: 'HS256', typ: 'JWT', cty: 'JWT' }, user.accessToken, hmac(TEST_SECRET)));
      await refused(forge({ alg: 'none', cty: 'JWT' }, user.accessToken, ''));
    });
  });

  describe('the wrong kind of token', () => {
    it('refuses a refresh token as a bearer token, and an access token sent to /auth/refresh', async () => {
      const other = await newUser(t.http);
      await refused(other.refreshToken);
      const res = await t.http.post('/auth/refresh', { refreshToken: other.accessToken });
      expectError(res, 401);
      // Neither attempt burned the real refresh token.
      expect((await t.http.post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(200);
    });
  });

  describe('where and how the token is carried', () => {
    it.each([
      ['trailing garbage after the token', (tok: string) => `Bearer ${tok} extra`],
      ['the token repeated in one header', (tok: string) => `Bearer ${tok}, Bearer ${tok}`],
      ['a space inside the token', (tok: string) => `Bearer ${tok.slice(0, 30)} ${tok.slice(30)}`],
      ['a tab instead of a space', (tok: string) => `Bearer\t${tok}`],
      ['no space at all', (tok: string) => `Bearer${tok}`],
      ['no scheme', (tok: string) => tok],
      ['the Basic scheme', (tok: string) => `Basic ${tok}`],
      ['a JWT scheme', (tok: string) => `JWT ${tok}`],
      ['a Token scheme', (tok: string) => `Token ${tok}`],
      ['Bearer and nothing', () => 'Bearer'],
      ['Bearer and spaces', () => 'Bearer    '],
      ['a quoted token', (tok: string) => `Bearer "${tok}"`],
    ])('refuses an Authorization header with %s', async (_, header) => {
      const res = await t.http.get('/auth/me', { headers: { authorization: header(user.accessToken) } });
      expectError(res, 401);
    });

    it('accepts the scheme in any case and several spaces: RFC 7235 §2.1 and RFC 6750’s "Bearer" 1*SP b64token', async () => {
      // Deliberately accepted: both RFCs allow them, refusing them breaks conforming clients and stops no attacker.
      for (const header of [`bearer ${user.accessToken}`, `BEARER ${user.accessToken}`, `Bearer   ${user.accessToken}`]) {
        expect((await t.http.get('/auth/me', { headers: { authorization: header } })).status).toBe(200);
      }
    });

    it('refuses two Authorization headers, whichever of them holds the genuine token', async () => {
      const url = new URL(t.server.baseUrl);
      for (const pair of [
        [`Bearer ${user.accessToken}`, 'Bearer garbage'],
        ['Bearer garbage', `Bearer ${user.accessToken}`],
        [`Bearer ${user.accessToken}`, `Bearer ${user.accessToken}`],
      ]) {
        const res = await rawRequest(url.origin, ['GET /auth/me HTTP/1.1', ...pair.map((v) => `Authorization: ${v}`)]);
        expect(`${res.status} ${res.body}`).toMatch(/^401 /);
        expect(JSON.parse(res.body)).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
      }
    });

    it('answers 401 with a WWW-Authenticate: Bearer challenge (RFC 6750 §3)', async () => {
      const missing = await t.http.get('/auth/me');
      expectError(missing, 401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      const invalid = await me('garbage');
      expect(invalid.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });

    it('refuses a token in the query string, in a cookie, or in the body', async () => {
      for (const query of ['access_token', 'token', 'jwt', 'authorization']) {
        expectError(await t.http.get(`/auth/me?${query}=${user.accessToken}`), 401);
      }
      for (const cookie of ['access_token', 'token', 'jwt', 'Authorization', 'refresh_token']) {
        expectError(await t.http.get('/auth/me', { headers: { cookie: `${cookie}=${user.accessToken}` } }), 401);
        expectError(await t.http.get('/auth/me', { headers: { cookie: `${cookie}=Bearer%20${user.accessToken}` } }), 401);
      }
      expectError(await t.http.post('/auth/logout', { access_token: user.accessToken }), 401);
      expectError(await t.http.get('/auth/me', { headers: { 'x-access-token': user.accessToken } }), 401);
    });
  });

  it('never answers 500 to a burst of random garbage tokens', async () => {
    const garbage = [
      randomBytes(48).toString('base64url'),
      `${randomBytes(8).toString('base64url')}.${randomBytes(8).toString('base64url')}.${randomBytes(8).toString('base64url')}`,
      `${b64url({ alg: 'ES256' })}.${b64url({ sub: randomUUID() })}.`,
      forge(genuine.header, 'null', real),
      forge(genuine.header, '{}', real),
      `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url('{}')}.${hmac(TEST_SECRET)(`${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url('{}')}`)}`,
    ];
    for (const token of garbage) await refused(token);
  });
});

/** A string with the form of a kid (a SHA-256 thumbprint, base64url) that names no key. */
function thumbprintLike(): string {
  return createHash('sha256').update(randomBytes(16)).digest('base64url');
}
