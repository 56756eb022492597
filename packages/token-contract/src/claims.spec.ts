import { accessTokenClaimsOf, authenticationClaimsOf, type ClaimRules } from './claims';

const NOW = 1_800_000_000;
const RULES: ClaimRules = { issuer: 'http://auth.test', audience: 'nest-auth-backend', exact: true, maxLifetime: 900, now: NOW };
const core = {
  sub: '0000000a-0000-4000-8000-00000000000b',
  sid: '00000000-0000-4000-8000-0000000000a1',
  ver: 0,
  role: 'USER',
  iat: NOW,
  exp: NOW + 900,
  iss: 'http://auth.test',
  aud: 'nest-auth-backend',
  jti: '00000000-0000-4000-8000-0000000000f1',
};
const authentication = { auth_time: NOW - 30, amr: ['pwd'], acr: 'aal1' };

describe('accessTokenClaimsOf', () => {
  it('accepts the claims the server issues, with or without the authentication claims, and returns only those', () => {
    expect(accessTokenClaimsOf(core, RULES)).toEqual(core);
    expect(accessTokenClaimsOf({ ...core, ...authentication }, RULES)).toEqual({ ...core, ...authentication });
    expect(accessTokenClaimsOf({ ...core, role: 'ADMIN', ver: 7, amr: ['hwk', 'user', 'mfa'], acr: 'aal2', auth_time: NOW }, RULES)).not.toBeNull();
  });

  it('refuses a claim outside the contract when exact; a relying party ignores it', () => {
    expect(accessTokenClaimsOf({ ...core, scope: 'admin' }, RULES)).toBeNull();
    expect(accessTokenClaimsOf({ ...core, scope: 'admin' }, { ...RULES, exact: false })).toEqual(core);
  });

  it.each(Object.keys(core))('refuses a token without %s', (claim) => {
    const { [claim]: _, ...rest } = core as Record<string, unknown>;
    expect(accessTokenClaimsOf(rest, RULES)).toBeNull();
    expect(accessTokenClaimsOf(rest, { ...RULES, exact: false })).toBeNull();
  });

  it.each([
    ['an upper-case sub', { sub: core.sub.toUpperCase() }],
    ['a sid that is no uuid', { sid: 'session-1' }],
    ['a numeric jti', { jti: 42 }],
    ['a negative ver', { ver: -1 }],
    ['a fractional ver', { ver: 1.5 }],
    ['a ver as a string', { ver: '0' }],
    ['an unknown role', { role: 'ROOT' }],
    ['a lower-case role', { role: 'admin' }],
    ['another issuer', { iss: 'http://evil.test' }],
    ['an audience list', { aud: ['nest-auth-backend'] }],
    ['another audience', { aud: 'other' }],
    ['iat in the future', { iat: NOW + 61, exp: NOW + 900 }],
    ['exp before iat', { exp: NOW - 1 }],
    ['a lifetime past ACCESS_TOKEN_TTL', { exp: NOW + 901 }],
    ['a fractional iat', { iat: NOW + 0.5 }],
  ])('refuses %s', (_, change) => {
    expect(accessTokenClaimsOf({ ...core, ...change }, RULES)).toBeNull();
  });

  it('leaves the lifetime unchecked when it does not know it (a relying party), and tolerates a minute of clock skew', () => {
    expect(accessTokenClaimsOf({ ...core, exp: NOW + 3600 }, { ...RULES, maxLifetime: undefined })).not.toBeNull();
    expect(accessTokenClaimsOf({ ...core, iat: NOW + 60, exp: NOW + 900 }, RULES)).not.toBeNull();
  });

  it.each([
    ['only auth_time', { auth_time: NOW }],
    ['no acr', { auth_time: NOW, amr: ['pwd'] }],
    ['an unknown acr', { ...authentication, acr: 'aal3' }],
    ['an empty amr', { ...authentication, amr: [] }],
    ['amr as a string', { ...authentication, amr: 'pwd' }],
    ['an empty method', { ...authentication, amr: [''] }],
    ['auth_time after iat', { ...authentication, auth_time: NOW + 61 }],
    ['auth_time as a string', { ...authentication, auth_time: String(NOW) }],
  ])('refuses authentication claims with %s', (_, claims) => {
    expect(accessTokenClaimsOf({ ...core, ...claims }, RULES)).toBeNull();
  });

  it('refuses what is not an object', () => {
    for (const payload of [null, 'token', 42, [core]]) expect(accessTokenClaimsOf(payload, RULES)).toBeNull();
  });
});

describe('authenticationClaimsOf', () => {
  it('reads the three claims of an introspection answer, or nothing', () => {
    expect(authenticationClaimsOf({ active: true, sub: core.sub, ...authentication })).toEqual(authentication);
    expect(authenticationClaimsOf({ active: true, sub: core.sub })).toBeNull();
  });
});
