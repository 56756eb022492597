import { ConfigValidationError, validateEnv } from './configuration';

const SECRET = 'x'.repeat(32);

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

  it('requires a real JWT_ACCESS_SECRET of at least 32 bytes in production', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow(/JWT_ACCESS_SECRET: is required/);
    expect(() => validateEnv({ NODE_ENV: 'production', JWT_ACCESS_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(validateEnv({ NODE_ENV: 'production', JWT_ACCESS_SECRET: SECRET }).auth.accessSecret).toBe(SECRET);
  });

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together, and an idle TTL within the absolute one', () => {
    expect(() => validateEnv({ ADMIN_EMAIL: 'a@example.com' })).toThrow(/go together/);
    expect(() => validateEnv({ SESSION_IDLE_TTL: '40d' })).toThrow(/SESSION_IDLE_TTL/);
  });
});
