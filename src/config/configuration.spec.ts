import { randomBytes } from 'node:crypto';
import { ConfigValidationError, validateEnv } from './configuration';

/** What the README says to generate: random bytes, base64url. */
const SECRET = randomBytes(32).toString('base64url');

describe('validateEnv', () => {
  it('applies the contract’s defaults', () => {
    const config = validateEnv({});
    expect(config.app.port).toBe(3000);
    expect(config.database).toEqual({ url: undefined, dataDir: './.data', poolSize: 10 });
    expect(config.auth).toMatchObject({
      accessTokenTtl: 900,
      sessionIdleTtl: 7 * 86_400,
      sessionAbsoluteTtl: 30 * 86_400,
      refreshReuseGrace: 30,
      loginRateLimit: 10,
      cookieSecure: true,
      admin: undefined,
    });
  });

  it('reads durations as seconds or as strings like 15m and 7d', () => {
    const config = validateEnv({ ACCESS_TOKEN_TTL: '600', SESSION_IDLE_TTL: '2d', SESSION_ABSOLUTE_TTL: '30d', REFRESH_REUSE_GRACE: '0' });
    expect(config.auth.accessTokenTtl).toBe(600);
    expect(config.auth.sessionIdleTtl).toBe(172_800);
    expect(config.auth.refreshReuseGrace).toBe(0);
  });

  it('names every bad key in one message', () => {
    const attempt = () =>
      validateEnv({ PORT: 'eighty', ACCESS_TOKEN_TTL: 'soon', DATABASE_URL: 'mysql://x', COOKIE_SECURE: 'maybe', JWT_ACCESS_SECRET: 'short' });
    expect(attempt).toThrow(ConfigValidationError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      for (const key of ['PORT', 'ACCESS_TOKEN_TTL', 'DATABASE_URL', 'COOKIE_SECURE', 'JWT_ACCESS_SECRET']) {
        expect(message).toContain(key);
      }
    }
  });

  it('requires a real AUTH_SECRET of at least 32 bytes in production, and still reads its former name JWT_ACCESS_SECRET', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow(/AUTH_SECRET: is required/);
    expect(() => validateEnv({ NODE_ENV: 'production', AUTH_SECRET: 'short' })).toThrow(/AUTH_SECRET: must be at least 32 bytes/);
    expect(() => validateEnv({ NODE_ENV: 'production', JWT_ACCESS_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(validateEnv({ NODE_ENV: 'production', AUTH_SECRET: SECRET }).auth.secret).toBe(SECRET);
    expect(validateEnv({ NODE_ENV: 'production', JWT_ACCESS_SECRET: SECRET }).auth.secret).toBe(SECRET);
    expect(validateEnv({ NODE_ENV: 'production', AUTH_SECRET: SECRET, JWT_ACCESS_SECRET: SECRET }).auth.secret).toBe(SECRET);
  });

  it('refuses AUTH_SECRET and JWT_ACCESS_SECRET that differ, and an AUTH_SECRET_PREVIOUS equal to the current secret', () => {
    const other = randomBytes(32).toString('base64url');
    expect(() => validateEnv({ AUTH_SECRET: SECRET, JWT_ACCESS_SECRET: other })).toThrow(/AUTH_SECRET: and JWT_ACCESS_SECRET .* differ/);
    expect(() => validateEnv({ AUTH_SECRET: SECRET, AUTH_SECRET_PREVIOUS: SECRET })).toThrow(/AUTH_SECRET_PREVIOUS: equals/);
    expect(() => validateEnv({ AUTH_SECRET: SECRET, AUTH_SECRET_PREVIOUS: 'short' })).toThrow(/AUTH_SECRET_PREVIOUS: must be at least 32 bytes/);
    expect(validateEnv({ AUTH_SECRET: SECRET, AUTH_SECRET_PREVIOUS: other }).auth).toMatchObject({ secret: SECRET, previousSecret: other });
  });

  it('issues for APP_URL (default http://localhost:PORT) unless JWT_ISSUER says otherwise; ES256 unless JWT_ALGORITHM', () => {
    expect(validateEnv({}).auth).toMatchObject({ issuer: 'http://localhost:3000', audience: 'nest-auth-backend', algorithm: 'ES256' });
    expect(validateEnv({ PORT: '8080' }).auth.issuer).toBe('http://localhost:8080');
    expect(validateEnv({ APP_URL: 'https://auth.example.com/' }).auth.issuer).toBe('https://auth.example.com');
    expect(validateEnv({ APP_URL: 'https://auth.example.com', JWT_ISSUER: 'https://issuer.example.com' }).auth.issuer).toBe(
      'https://issuer.example.com',
    );
    expect(validateEnv({ JWT_ALGORITHM: 'RS256' }).auth.algorithm).toBe('RS256');
    expect(() => validateEnv({ JWT_ALGORITHM: 'HS256' })).toThrow(/JWT_ALGORITHM: must be ES256 or RS256/);
    expect(() => validateEnv({ APP_URL: 'ftp://example.com' })).toThrow(/APP_URL/);
  });

  it('publishes a new signing key SIGNING_KEY_LEAD (10m) before it signs: at least 30 s, seconds only in tests', () => {
    expect(validateEnv({}).auth.signingKeyLead).toBe(600);
    expect(validateEnv({ SIGNING_KEY_LEAD: '30s' }).auth.signingKeyLead).toBe(30);
    expect(() => validateEnv({ SIGNING_KEY_LEAD: '1s' })).toThrow(/SIGNING_KEY_LEAD: must be at least 30s/);
    expect(() => validateEnv({ NODE_ENV: 'production', AUTH_SECRET: SECRET, SIGNING_KEY_LEAD: '5s' })).toThrow(/SIGNING_KEY_LEAD/);
    expect(validateEnv({ NODE_ENV: 'test', SIGNING_KEY_LEAD: '1s' }).auth.signingKeyLead).toBe(1);
  });

  it('refuses a guessable JWT_ACCESS_SECRET in production, however long, and says how to generate one', () => {
    for (const weak of ['12345678901234567890123456789012', 'x'.repeat(40), 'qwertyuiopasdfghjklzxcvbnm1234567890', 'passwordpasswordpasswordpassword12']) {
      expect(() => validateEnv({ NODE_ENV: 'production', JWT_ACCESS_SECRET: weak })).toThrow(/JWT_ACCESS_SECRET: is guessable.*randomBytes/);
    }
    // 24 random bytes (32 characters) are enough; development does not judge the secret.
    const short = randomBytes(24).toString('base64');
    expect(validateEnv({ NODE_ENV: 'production', JWT_ACCESS_SECRET: short }).auth.secret).toBe(short);
    expect(validateEnv({ JWT_ACCESS_SECRET: '12345678901234567890123456789012' }).auth.secret).toBeDefined();
  });

  it('refuses argon2 parameters below OWASP’s minimum outside NODE_ENV=test', () => {
    expect(validateEnv({}).auth.argon2).toEqual({ memoryCost: 19_456, timeCost: 2 });
    expect(validateEnv({ ARGON2_MEMORY_COST: '47104', ARGON2_TIME_COST: '1' }).auth.argon2).toEqual({ memoryCost: 47_104, timeCost: 1 });
    expect(validateEnv({ ARGON2_MEMORY_COST: '9216', ARGON2_TIME_COST: '4' }).auth.argon2.timeCost).toBe(4);
    for (const env of ['development', 'production']) {
      expect(() => validateEnv({ NODE_ENV: env, JWT_ACCESS_SECRET: SECRET, ARGON2_MEMORY_COST: '256', ARGON2_TIME_COST: '1' })).toThrow(
        /ARGON2_MEMORY_COST: .*OWASP/,
      );
      expect(() => validateEnv({ NODE_ENV: env, JWT_ACCESS_SECRET: SECRET, ARGON2_TIME_COST: '1' })).toThrow(/ARGON2_MEMORY_COST/);
    }
    expect(validateEnv({ NODE_ENV: 'test', ARGON2_MEMORY_COST: '256', ARGON2_TIME_COST: '1' }).auth.argon2).toEqual({ memoryCost: 256, timeCost: 1 });
  });

  it('limits registrations per IP by default, and 0 turns the limit off', () => {
    expect(validateEnv({}).auth.registerRateLimit).toBe(10);
    expect(validateEnv({ RATE_LIMIT_REGISTER: '0' }).auth.registerRateLimit).toBe(0);
    expect(() => validateEnv({ RATE_LIMIT_REGISTER: '-1' })).toThrow(/RATE_LIMIT_REGISTER/);
  });

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together, and an idle TTL within the absolute one', () => {
    expect(() => validateEnv({ ADMIN_EMAIL: 'a@example.com' })).toThrow(/go together/);
    expect(() => validateEnv({ SESSION_IDLE_TTL: '40d' })).toThrow(/SESSION_IDLE_TTL/);
  });
});
