import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { newSession, newUser, type TestUser } from '../support/factories';
import { TEST_SECRET, useApp } from '../support/test-app';
import { b64url, es256, expectError, forge, hmac, ps256, rawRequest, rs256, split, startTripwire, type Tripwire } from './support';

/**
 * Forged and bent access tokens against GET /auth/me (RFC 8725, OWASP ASVS 5 V9). Every
 * one must get a 401 in the NestJS error shape, never a 500, and the genuine token must
 * keep working after each attack. Tokens are made by hand with node:crypto.
 */
describe('JWT attacks on a bearer-protected route', () => {
  const t = useApp();
  let user: TestUser;
  let genuine: { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string; rawHeader: string; rawPayload: string };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  const me = (token: string, headers: Record<string, string> = {}) => t.http.get('/auth/me', { token, headers });
  const refused = async (token: string) => {
    const res = await me(token);
    expectError(res, 401);
    return res;
  };
  /** The genuine claims, with changes, signed with the server's real secret. */
  const realSigned = (changes: Record<string, unknown> = {}, header: Record<string, unknown> = genuine.header) =>
    forge(header, { ...genuine.payload, ...changes }, hmac(TEST_SECRET));
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    user = await newUser(t.http);
    genuine = split(user.accessToken);
  });

  afterEach(async () => {
    // Whatever was tried, the genuine token is untouched.
    expect((await me(user.accessToken)).status).toBe(200);
  });

  it('accepts the genuine token, and a token re-signed with the real secret (the forging helper is right)', async () => {
    expect((await me(user.accessToken)).body.id).toBe(user.id);
    expect(genuine.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect((await me(realSigned())).status).toBe(200);
  });

  describe('alg: none and algorithm confusion', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg "%s", with and without a signature', async (alg) => {
      const header = { alg, typ: 'JWT' };
      await refused(forge(header, genuine.payload, ''));
      await refused(`${b64url(header)}.${genuine.rawPayload}`);
      await refused(forge(header, genuine.payload, genuine.signature));
      await refused(forge(header, genuine.payload, hmac(TEST_SECRET)));
    });

    it.each([
      ['an empty key', ''],
      ['"secret"', 'secret'],
      ['"password"', 'password'],
      ['the issuer name', 'nest-auth-backend'],
      ['jwt.io’s example key', 'your-256-bit-secret'],
    ])('refuses HS256 signed with %s', async (_, key) => {
      await refused(forge(genuine.header, genuine.payload, hmac(key)));
    });

    it('refuses HS384 and HS512, even signed with the real secret, and an alg spelled "hs256"', async () => {
      await refused(forge({ alg: 'HS384', typ: 'JWT' }, genuine.payload, hmac(TEST_SECRET, 'sha384')));
      await refused(forge({ alg: 'HS512', typ: 'JWT' }, genuine.payload, hmac(TEST_SECRET, 'sha512')));
      await refused(forge({ alg: 'hs256', typ: 'JWT' }, genuine.payload, hmac(TEST_SECRET)));
    });

    it('refuses RS256, PS256 and ES256 tokens signed with an attacker’s key pair', async () => {
      await refused(forge({ alg: 'RS256', typ: 'JWT' }, genuine.payload, rs256(rsa.privateKey)));
      await refused(forge({ alg: 'PS256', typ: 'JWT' }, genuine.payload, ps256(rsa.privateKey)));
      await refused(forge({ alg: 'ES256', typ: 'JWT' }, genuine.payload, es256(ec.privateKey)));
    });

    it('refuses HS256 signed with a public key PEM as the HMAC secret (RS/HS confusion)', async () => {
      for (const pem of [
        rsa.publicKey.export({ type: 'spki', format: 'pem' }),
        rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }),
        ec.publicKey.export({ type: 'spki', format: 'pem' }),
      ]) {
        await refused(forge(genuine.header, genuine.payload, hmac(pem as string)));
        await refused(forge({ alg: 'RS256', typ: 'JWT' }, genuine.payload, hmac(pem as string)));
      }
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
      ['a header that is not JSON', (tok: string) => `${b64url('{alg:HS256')}.${tok.split('.').slice(1).join('.')}`],
      ['a payload that is not JSON', (tok: string) => forge(genuine.header, 'not json', hmac(TEST_SECRET))],
      ['a JSON array as payload', () => forge(genuine.header, '[1,2]', hmac(TEST_SECRET))],
      ['a JSON string as payload', () => forge(genuine.header, '"sub"', hmac(TEST_SECRET))],
      ['a JSON array as header', (tok: string) => `${b64url('["HS256"]')}.${tok.split('.').slice(1).join('.')}`],
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

    it('refuses an embedded jwk (RSA public key, and an oct key holding the attacker’s HMAC secret)', async () => {
      await refused(forge({ alg: 'RS256', typ: 'JWT', jwk: attackerJwk }, genuine.payload, rs256(rsa.privateKey)));
      const secret = randomBytes(32);
      await refused(forge({ alg: 'HS256', typ: 'JWT', jwk: { kty: 'oct', k: secret.toString('base64url') } }, genuine.payload, hmac(secret)));
    });

    it('refuses jku and x5u pointing at an attacker’s server, and never fetches them', async () => {
      const variants = [
        { alg: 'RS256', typ: 'JWT', jku: `${tripwire.url}/jwks.json`, kid: 'attacker' },
        { alg: 'RS256', typ: 'JWT', x5u: `${tripwire.url}/cert.pem` },
        { alg: 'HS256', typ: 'JWT', jku: `${tripwire.url}/jwks.json` },
        { alg: 'HS256', typ: 'JWT', x5u: `${tripwire.url}/cert.pem` },
      ];
      for (const header of variants) {
        await refused(forge(header, genuine.payload, header.alg === 'RS256' ? rs256(rsa.privateKey) : hmac('attacker')));
        // Signed with the real secret too: a key-locating header has no place in our tokens.
        await refused(forge({ ...header, alg: 'HS256' }, genuine.payload, hmac(TEST_SECRET)));
      }
      // A fetch would have to happen while verifying, i.e. before the 401 went out; the
      // wait only lets a (buggy) fire-and-forget fetch land before we look.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(tripwire.requests).toEqual([]);
    });

    it('refuses an x5c chain it cannot use', async () => {
      const der = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      await refused(forge({ alg: 'RS256', typ: 'JWT', x5c: [der] }, genuine.payload, rs256(rsa.privateKey)));
    });

    it('refuses kid path traversal signed with the empty key of /dev/null', async () => {
      for (const kid of ['../../../../dev/null', '/dev/null', '../../../../../../etc/passwd', 'file:///dev/null']) {
        await refused(forge({ alg: 'HS256', typ: 'JWT', kid }, genuine.payload, hmac('')));
        await refused(forge({ alg: 'HS256', typ: 'JWT', kid }, genuine.payload, hmac(TEST_SECRET)));
      }
    });

    it('refuses kid SQL injection', async () => {
      for (const kid of ["' OR '1'='1", "x' UNION SELECT 'attacker-key' --", "1; DROP TABLE users; --"]) {
        await refused(forge({ alg: 'HS256', typ: 'JWT', kid }, genuine.payload, hmac('attacker-key')));
        await refused(forge({ alg: 'HS256', typ: 'JWT', kid }, genuine.payload, hmac('')));
      }
      expect(await t.server.prisma.user.count({ where: { id: user.id } })).toBe(1);
    });

    it('refuses kid shell injection, and runs nothing', async () => {
      const marker = join(tmpdir(), `pwned-${randomBytes(6).toString('hex')}`);
      rmSync(marker, { force: true });
      for (const kid of [`$(touch ${marker})`, `\`touch ${marker}\``, `x; touch ${marker}`, `x | touch ${marker}`]) {
        await refused(forge({ alg: 'HS256', typ: 'JWT', kid }, genuine.payload, hmac('')));
        await refused(forge({ alg: 'HS256', typ: 'JWT', kid }, genuine.payload, hmac(TEST_SECRET)));
      }
      expect(existsSync(marker)).toBe(false);
      expect(existsSync('/tmp/pwned')).toBe(false);
    });
  });

  describe('time and audience claims (signed with the real secret)', () => {
    it('refuses an expired token, one not yet valid, and one without exp', async () => {
      const expired = await refused(realSigned({ iat: now() - 1000, exp: now() - 100 }));
      expect(expired.body.message).toBe('Access token expired');
      await refused(realSigned({ nbf: now() + 3600 }));
      const { exp: _exp, ...noExp } = genuine.payload;
      await refused(forge(genuine.header, noExp, hmac(TEST_SECRET)));
    });

    it('refuses a token issued in the future, and one whose lifetime exceeds ACCESS_TOKEN_TTL', async () => {
      await refused(realSigned({ iat: now() + 3600, exp: now() + 3600 + 900 }));
      await refused(realSigned({ iat: now(), exp: now() + 30 * 86_400 }));
      const { iat: _iat, ...noIat } = genuine.payload;
      await refused(forge(genuine.header, noIat, hmac(TEST_SECRET)));
    });

    it('refuses a wrong iss, a missing aud and a wrong aud', async () => {
      await refused(realSigned({ iss: 'https://evil.example.com' }));
      const { iss: _iss, ...noIss } = genuine.payload;
      await refused(forge(genuine.header, noIss, hmac(TEST_SECRET)));
      const { aud: _aud, ...noAud } = genuine.payload;
      await refused(forge(genuine.header, noAud, hmac(TEST_SECRET)));
      await refused(realSigned({ aud: 'another-service' }));
      await refused(realSigned({ aud: ['another-service'] }));
    });
  });

  describe('every claim replaced by a value of the wrong type or form (signed with the real secret)', () => {
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
    const otherString = (v: unknown) =>
      typeof v === 'number' ? String(v) : v === 'USER' ? 'user' : (v as string).toUpperCase();
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
      expect((await me(forge({ alg: 'HS256', typ: 'JWT' }, bumped.payload, hmac(TEST_SECRET)))).status).toBe(200);
    });

    it.each(cases)('refuses %s = %s', async (claim, _label, make) => {
      const payload = { ...bumped.payload, [claim]: make(bumped.payload[claim]) };
      await refused(forge({ alg: 'HS256', typ: 'JWT' }, payload, hmac(TEST_SECRET)));
    });

    it('refuses claims this server never issues (extra claims, a __proto__ key)', async () => {
      await refused(forge({ alg: 'HS256', typ: 'JWT' }, { ...bumped.payload, admin: true }, hmac(TEST_SECRET)));
      const proto = JSON.stringify(bumped.payload).replace(/^\{/, '{"__proto__":{"role":"ADMIN"},');
      await refused(forge({ alg: 'HS256', typ: 'JWT' }, proto, hmac(TEST_SECRET)));
    });
  });

  describe('typ, cty and other header tricks on a token signed with the real secret', () => {
    it.each([
      ['typ JWE', { alg: 'HS256', typ: 'JWE' }],
      ['typ at+jwt', { alg: 'HS256', typ: 'at+jwt' }],
      ['typ refresh', { alg: 'HS256', typ: 'refresh+jwt' }],
      ['cty JWT (a nested token)', { alg: 'HS256', typ: 'JWT', cty: 'JWT' }],
      ['crit with an unknown extension', { alg: 'HS256', typ: 'JWT', crit: ['exp-ext'], 'exp-ext': true }],
      ['b64 false (RFC 7797)', { alg: 'HS256', typ: 'JWT', b64: false, crit: ['b64'] }],
      ['enc (looks like a JWE)', { alg: 'HS256', typ: 'JWT', enc: 'A256GCM' }],
      ['no typ', { alg: 'HS256' }],
    ])('refuses %s', async (_, header) => {
      await refused(forge(header, genuine.payload, hmac(TEST_SECRET)));
    });

    it('refuses a nested JWT: the genuine token as the payload of an outer HS256 token', async () => {
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
      `${b64url({ alg: 'HS256' })}.${b64url({ sub: randomUUID() })}.`,
      `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url('null')}.${hmac(TEST_SECRET)(`${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url('null')}`)}`,
      `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url('{}')}.${hmac(TEST_SECRET)(`${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url('{}')}`)}`,
    ];
    for (const token of garbage) await refused(token);
  });
});
