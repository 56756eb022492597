import { accessTokenHeaderOf } from './header';

const KID = 'x'.repeat(43);
const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = (header: unknown, payload: unknown = { sub: 'a' }) => `${segment(header)}.${segment(payload)}.c2ln`;

describe('accessTokenHeaderOf', () => {
  it('reads the alg and kid of the one header the server writes', () => {
    expect(accessTokenHeaderOf(token({ alg: 'ES256', typ: 'at+jwt', kid: KID }))).toEqual({ alg: 'ES256', kid: KID });
    // Which algorithm a key allows is the verifier's check, with the key at hand.
    expect(accessTokenHeaderOf(token({ alg: 'HS256', typ: 'at+jwt', kid: KID }))).toEqual({ alg: 'HS256', kid: KID });
  });

  it.each([
    ['typ JWT', { alg: 'ES256', typ: 'JWT', kid: KID }],
    ['no typ', { alg: 'ES256', kid: KID }],
    ['a jku', { alg: 'ES256', typ: 'at+jwt', kid: KID, jku: 'http://evil.test/jwks' }],
    ['a jwk', { alg: 'ES256', typ: 'at+jwt', kid: KID, jwk: {} }],
    ['crit', { alg: 'ES256', typ: 'at+jwt', kid: KID, crit: ['b64'] }],
    ['cty', { alg: 'ES256', typ: 'at+jwt', kid: KID, cty: 'JWT' }],
    ['a kid of another form', { alg: 'ES256', typ: 'at+jwt', kid: '../../etc/passwd' }],
    ['no kid', { alg: 'ES256', typ: 'at+jwt' }],
    ['alg none as null', { alg: null, typ: 'at+jwt', kid: KID }],
  ])('refuses a header with %s', (_, header) => {
    expect(accessTokenHeaderOf(token(header))).toBeNull();
  });

  it('refuses a payload that is no JSON object, and what is no JWS at all', () => {
    expect(accessTokenHeaderOf(token({ alg: 'ES256', typ: 'at+jwt', kid: KID }, ['sub']))).toBeNull();
    expect(accessTokenHeaderOf(`${segment({ alg: 'ES256', typ: 'at+jwt', kid: KID })}.bm90IGpzb24.c2ln`)).toBeNull();
    expect(accessTokenHeaderOf('garbage')).toBeNull();
  });
});
