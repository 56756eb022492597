import { randomBytes } from 'node:crypto';
import { fastify } from 'fastify';
import { ConfigValidationError, validateEnv } from './configuration';

/** What docs/operating.md says to generate: random bytes, base64url. */
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
    expect(validateEnv({ APP_URL: 'https://auth.example.com', JWT_ISSUER: 'https://issuer.example.com' }).auth.issuer).toBe('https://issuer.example.com');
    expect(validateEnv({ JWT_ALGORITHM: 'RS256' }).auth.algorithm).toBe('RS256');
    expect(() => validateEnv({ JWT_ALGORITHM: 'HS256' })).toThrow(/JWT_ALGORITHM: must be one of ES256, RS256, got "HS256"/);
    expect(() => validateEnv({ APP_URL: 'ftp://example.com' })).toThrow(/APP_URL/);
  });

  it('publishes a new signing key SIGNING_KEY_LEAD (10m) before it signs: at least 30 s, seconds only in tests', () => {
    expect(validateEnv({}).auth.signingKeyLead).toBe(600);
    expect(validateEnv({ SIGNING_KEY_LEAD: '30s' }).auth.signingKeyLead).toBe(30);
    expect(() => validateEnv({ SIGNING_KEY_LEAD: '1s' })).toThrow(/SIGNING_KEY_LEAD: must be at least 30s/);
    expect(() => validateEnv({ NODE_ENV: 'production', AUTH_SECRET: SECRET, SIGNING_KEY_LEAD: '5s' })).toThrow(/SIGNING_KEY_LEAD/);
    expect(validateEnv({ NODE_ENV: 'test', SIGNING_KEY_LEAD: '1s' }).auth.signingKeyLead).toBe(1);
  });

  it('rotates signing keys on schedule with SIGNING_KEY_ROTATION (off by default), never faster than SIGNING_KEY_LEAD + ACCESS_TOKEN_TTL', () => {
    expect(validateEnv({}).auth.signingKeyRotation).toBe(0);
    expect(validateEnv({ SIGNING_KEY_ROTATION: '30d' }).auth.signingKeyRotation).toBe(30 * 86_400);
    // 10 min lead + 15 min tokens: 25 min is the shortest period.
    expect(validateEnv({ SIGNING_KEY_ROTATION: '25m' }).auth.signingKeyRotation).toBe(1500);
    expect(() => validateEnv({ SIGNING_KEY_ROTATION: '24m' })).toThrow(
      /SIGNING_KEY_ROTATION: must be 0 \(rotate by hand only\) or at least SIGNING_KEY_LEAD \+ ACCESS_TOKEN_TTL \(1500 s\)/,
    );
    expect(() => validateEnv({ SIGNING_KEY_ROTATION: 'monthly' })).toThrow(/SIGNING_KEY_ROTATION: must be seconds or a duration/);
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

/** The message validateEnv throws for `env`, or '' when it accepts it. */
function refusal(env: Record<string, string>): string {
  try {
    validateEnv(env);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message;
  }
}

describe('validateEnv messages: each names its key, the form expected and the value given', () => {
  it('refuses PORT=0 and PORT=abc: a server that clients must find needs a fixed port', () => {
    expect(refusal({ PORT: '0' })).toContain('  - PORT: must be a port number from 1 to 65535, got "0"');
    expect(refusal({ PORT: 'abc' })).toContain('  - PORT: must be a port number from 1 to 65535, got "abc"');
    for (const bad of ['65536', '-1', '80.5', '', '1e3']) expect(refusal({ PORT: bad })).toContain(`PORT: must be a port number from 1 to 65535, got "${bad}"`);
    expect(validateEnv({ PORT: '1' }).app.port).toBe(1);
    expect(validateEnv({ PORT: ' 8080 ' }).app.port).toBe(8080);
  });

  it('checks TRUST_PROXY at start, naming the key and the bad entries, instead of failing inside Fastify', () => {
    // What used to happen: the schema let it through and Fastify threw "invalid IP address".
    expect(() => fastify({ trustProxy: ['banana'] })).toThrow(/invalid IP address/);
    expect(refusal({ TRUST_PROXY: 'banana' })).toContain(
      '  - TRUST_PROXY: must be false, true, a hop count, or comma-separated proxy addresses or CIDRs (such as 10.0.0.0/8, loopback); "banana" is not',
    );
    expect(refusal({ TRUST_PROXY: '10.0.0.1, 10.0.0.0/33, yes, 10.0.0.0/255.0.255.0' })).toMatch(
      /TRUST_PROXY: .*; "10\.0\.0\.0\/33", "yes", "10\.0\.0\.0\/255\.0\.255\.0" are not$/m,
    );
    // Everything accepted is what Fastify (proxy-addr) accepts too.
    for (const [raw, parsed] of [
      ['false', false],
      ['', false],
      ['true', true],
      ['2', 2],
      ['10.0.0.1', ['10.0.0.1']],
      ['10.0.0.0/8, 192.168.0.0/255.255.0.0, loopback', ['10.0.0.0/8', '192.168.0.0/255.255.0.0', 'loopback']],
      ['fd00::/8,::1,linklocal,uniquelocal', ['fd00::/8', '::1', 'linklocal', 'uniquelocal']],
    ] as const) {
      const trustProxy = validateEnv({ TRUST_PROXY: raw }).app.trustProxy;
      expect(trustProxy).toEqual(parsed);
      expect(() => fastify({ trustProxy: trustProxy as boolean | string[] })).not.toThrow();
    }
    for (const bad of ['10.0.0.0/0', '300.0.0.1', 'proxy.example.com', '10.0.0.1;10.0.0.2']) {
      expect(refusal({ TRUST_PROXY: bad })).toContain(`TRUST_PROXY: must be`);
      expect(() => fastify({ trustProxy: [bad] })).toThrow();
    }
  });

  it('wants CORS_ORIGINS to be origins exactly as browsers send them, and names each bad entry', () => {
    expect(validateEnv({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).app.corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    const message = refusal({
      CORS_ORIGINS: 'https://ok.example.com, https://app.example.com/, https://x.example.com/path?q=1, *, app.example.com, https://APP.example.com',
    });
    const form =
      'CORS_ORIGINS: must be comma-separated origins, each scheme://host[:port] with no path, query or trailing slash, such as https://app.example.com; got';
    expect(message).toContain(`${form} "https://app.example.com/" (did you mean "https://app.example.com"?)`);
    expect(message).toContain(`${form} "https://x.example.com/path?q=1" (did you mean "https://x.example.com"?)`);
    expect(message).toContain(`${form} "*"`);
    expect(message).toContain(`${form} "app.example.com"`);
    expect(message).toContain(`${form} "https://APP.example.com" (did you mean "https://app.example.com"?)`);
    expect(message).not.toContain('"https://ok.example.com"');
    // A default port is not part of an origin: the browser would never send it.
    expect(refusal({ CORS_ORIGINS: 'https://app.example.com:443' })).toContain('(did you mean "https://app.example.com"?)');
  });

  it('bounds REFRESH_REUSE_GRACE at 5 minutes and says why', () => {
    expect(validateEnv({ REFRESH_REUSE_GRACE: '5m' }).auth.refreshReuseGrace).toBe(300);
    expect(validateEnv({ REFRESH_REUSE_GRACE: '0' }).auth.refreshReuseGrace).toBe(0);
    expect(refusal({ REFRESH_REUSE_GRACE: '1h' })).toContain(
      '  - REFRESH_REUSE_GRACE: must be at most 5m (300 s), got "1h": a longer grace defeats reuse detection, since a stolen rotated refresh token replayed within it gets a fresh token instead of ending the session',
    );
    expect(refusal({ REFRESH_REUSE_GRACE: '301' })).toContain('REFRESH_REUSE_GRACE: must be at most 5m');
  });

  it('reads INVITATION_TTL (7d by default)', () => {
    expect(validateEnv({}).recovery.invitationTtl).toBe(7 * 86_400);
    expect(validateEnv({ INVITATION_TTL: '2d' }).recovery.invitationTtl).toBe(2 * 86_400);
  });

  it('reads REAUTH_MAX_AGE (5m, at most 24h) and MFA_REQUIRED_ROLES (roles, comma-separated; none by default)', () => {
    expect(validateEnv({}).auth).toMatchObject({ reauthMaxAge: 300, mfaRequiredRoles: [] });
    expect(validateEnv({ REAUTH_MAX_AGE: '10m', MFA_REQUIRED_ROLES: ' ADMIN , ADMIN,USER' }).auth).toMatchObject({
      reauthMaxAge: 600,
      mfaRequiredRoles: ['ADMIN', 'USER'],
    });
    expect(refusal({ REAUTH_MAX_AGE: '2d' })).toContain('REAUTH_MAX_AGE: must be at most 24h');
    expect(refusal({ MFA_REQUIRED_ROLES: 'ADMIN,admin,ROOT' })).toContain(
      '  - MFA_REQUIRED_ROLES: must be roles separated by commas (USER, ADMIN); "admin", "ROOT" are not',
    );
  });

  it('binds passkeys to APP_URL by default; WEBAUTHN_ORIGINS must sit on the RP ID or its subdomains', () => {
    expect(validateEnv({ APP_URL: 'https://auth.example.com/console' }).webauthn).toEqual({
      rpId: 'auth.example.com',
      rpName: 'auth.example.com',
      origins: ['https://auth.example.com'],
    });
    expect(
      validateEnv({
        APP_URL: 'https://auth.example.com',
        WEBAUTHN_RP_ID: 'example.com',
        WEBAUTHN_RP_NAME: 'Example',
        WEBAUTHN_ORIGINS: 'https://app.example.com, https://auth.example.com',
      }).webauthn,
    ).toEqual({ rpId: 'example.com', rpName: 'Example', origins: ['https://app.example.com', 'https://auth.example.com'] });
    expect(refusal({ APP_URL: 'https://auth.example.com', WEBAUTHN_ORIGINS: 'https://evil.example.org' })).toContain(
      '  - WEBAUTHN_ORIGINS: must name origins on the RP ID "auth.example.com" or its subdomains (browsers refuse the others); got "https://evil.example.org"',
    );
    expect(refusal({ WEBAUTHN_RP_ID: 'https://example.com' })).toContain('WEBAUTHN_RP_ID: must be a lower-case domain name');
    expect(refusal({ WEBAUTHN_ORIGINS: 'https://localhost/' })).toContain('WEBAUTHN_ORIGINS: must be comma-separated origins');
  });

  it('explains ACCESS_TOKEN_TTL=0, and bounds it at 24h because revocations are kept in memory for one lifetime', () => {
    expect(refusal({ ACCESS_TOKEN_TTL: '0' })).toContain(
      '  - ACCESS_TOKEN_TTL: must be at least 1 second, got "0"; 0 would make every access token expire at once',
    );
    expect(refusal({ ACCESS_TOKEN_TTL: '2d' })).toContain(
      '  - ACCESS_TOKEN_TTL: must be at most 24h (86400 s), got "2d": every instance keeps each revocation in memory for one access-token lifetime',
    );
    expect(validateEnv({ ACCESS_TOKEN_TTL: '24h' }).auth.accessTokenTtl).toBe(86_400);
    expect(validateEnv({ ACCESS_TOKEN_TTL: '1' }).auth.accessTokenTtl).toBe(1);
  });

  it.each([
    ['NODE_ENV', 'prod', 'must be one of development, production, test, got "prod"'],
    ['LOG_LEVEL', 'verbose', 'must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    ['HOST', ' ', 'must be an address or host name to listen on'],
    ['DATA_DIR', '', 'must be a directory path'],
    ['DATABASE_POOL_SIZE', '0', 'must be a whole number of connections from 1 to 200, got "0"'],
    ['DATABASE_POOL_SIZE', 'ten', 'must be a whole number of connections from 1 to 200, got "ten"'],
    ['JWT_AUDIENCE', '', 'must not be empty'],
    ['SESSION_IDLE_TTL', 'a week', 'must be seconds or a duration like "15m" or "7d", got "a week"'],
    ['SESSION_ABSOLUTE_TTL', '0', 'must be at least 1 second, got "0"'],
    ['REFRESH_REUSE_GRACE', '-5s', 'must be seconds or a duration like "15m" or "7d", got "-5s"'],
    ['ADMIN_EMAIL', 'admin-at-example', 'must be an email address, got "admin-at-example"'],
    ['RATE_LIMIT_LOGIN', '-1', 'must be a whole number of attempts a minute (0 turns the limit off), got "-1"'],
    ['RATE_LIMIT_REFRESH', '1.5', 'must be a whole number of refreshes a minute (0 turns the limit off), got "1.5"'],
    ['RATE_LIMIT_REGISTER', 'many', 'must be a whole number of registrations a minute (0 turns the limit off), got "many"'],
    ['ARGON2_MEMORY_COST', '4', 'must be a whole number of KiB from 8 to 4194304, got "4"'],
    ['ARGON2_TIME_COST', '0', 'must be a whole number of passes from 1 to 100, got "0"'],
    ['COOKIE_SECURE', 'maybe', 'must be true or false, got "maybe"'],
    ['CONSOLE_ENABLED', 'off', 'must be true or false, got "off"'],
    ['REGISTRATION_ENABLED', 'closed', 'must be true or false, got "closed"'],
    ['BODY_LIMIT', '1000', 'must be a whole number of bytes, at least 1024, got "1000"'],
    ['BODY_LIMIT', '16k', 'must be a whole number of bytes, at least 1024, got "16k"'],
    ['MAIL_FROM', 'no-reply', 'must be an email address such as no-reply@example.com, got "no-reply"'],
    ['PASSWORD_RESET_TTL', '2d', 'must be at most 24h (86400 s), got "2d": a reset link is a password: it must not live for days'],
    ['EMAIL_VERIFICATION_TTL', 'later', 'must be seconds or a duration like "15m" or "7d", got "later"'],
    ['INVITATION_TTL', '60d', 'must be at most 30d (2592000 s), got "60d": an unused invitation should not live for months'],
    ['RATE_LIMIT_MAIL', 'x', 'must be a whole number of mail requests a minute (0 turns the limit off), got "x"'],
    [
      'OUTBOX_RETRY_SCHEDULE',
      '0,5s,,5m',
      'must be comma-separated delays (seconds, or like "5s", "5m", "2h"), such as "0,5s,5m,30m,2h,5h,10h,10h", got "0,5s,,5m"',
    ],
    ['OUTBOX_RETRY_SCHEDULE', '0,soon', 'must be comma-separated delays'],
  ])('%s=%j: "%s"', (key, value, expected) => {
    const env: Record<string, string> = { NODE_ENV: 'test', [key]: value };
    if (key === 'ADMIN_EMAIL') env.ADMIN_PASSWORD = 'a long enough password';
    expect(refusal(env)).toContain(`  - ${key}: ${expected}`);
  });

  it('never repeats a value that may hold a secret', () => {
    const message = refusal({
      NODE_ENV: 'production',
      JWT_ACCESS_SECRET: 'hunter2-secret',
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'pw-7',
      DATABASE_URL: 'mysql://app:db-password-9@db.example.com/auth',
    });
    expect(message).toContain('  - JWT_ACCESS_SECRET: must be at least 32 bytes from a random generator (the value is not repeated); generate one: node -e');
    expect(message).toContain('  - ADMIN_PASSWORD: must be 8 to 256 characters');
    expect(message).toContain(
      '  - DATABASE_URL: must be a postgresql://user:password@host:5432/database URL (the value is not repeated: it may hold a password)',
    );
    for (const secret of ['hunter2', 'pw-7', 'db-password-9', 'mysql://']) expect(message).not.toContain(secret);
    expect(refusal({ DATABASE_URL: 'postgresql://app:s3cret@[bad' })).toMatch(/DATABASE_URL: must be a postgresql:\/\/ ?user/);
    expect(refusal({ DATABASE_URL: 'postgresql://app:s3cret@[bad' })).not.toContain('s3cret');
  });

  it('mail: SMTP_URL is smtp:// or smtps:// and never repeated; mail is on with it, or in development', () => {
    const message = refusal({ SMTP_URL: 'http://mailer:p4ss@mail.example.com' });
    expect(message).toContain('  - SMTP_URL: must be smtp://user:password@host:587');
    expect(message).not.toContain('p4ss');
    expect(validateEnv({ NODE_ENV: 'test', SMTP_URL: 'smtps://u:p@mail.example.com' }).mail).toMatchObject({
      mode: 'smtp',
      smtpUrl: 'smtps://u:p@mail.example.com',
    });
    expect(validateEnv({ NODE_ENV: 'development' }).mail.mode).toBe('files');
    expect(validateEnv({ NODE_ENV: 'test' }).mail.mode).toBe('off');
    expect(validateEnv({ NODE_ENV: 'test', APP_URL: 'https://id.example.com/console' }).mail.from).toBe('no-reply@id.example.com');
    expect(validateEnv({ NODE_ENV: 'test' }).outbox.retrySchedule).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(validateEnv({ NODE_ENV: 'test', OUTBOX_RETRY_SCHEDULE: '0, 1, 250ms' }).outbox.retrySchedule).toEqual([0, 1000, 250]);
  });

  it('REQUIRE_VERIFIED_EMAIL=true needs mail: refused without SMTP_URL outside development', () => {
    expect(refusal({ NODE_ENV: 'test', REQUIRE_VERIFIED_EMAIL: 'true' })).toContain('  - REQUIRE_VERIFIED_EMAIL: is true but mail is off');
    expect(validateEnv({ NODE_ENV: 'test', REQUIRE_VERIFIED_EMAIL: 'true', SMTP_URL: 'smtp://127.0.0.1:2525' }).recovery.requireVerifiedEmail).toBe(true);
    expect(validateEnv({ NODE_ENV: 'development', REQUIRE_VERIFIED_EMAIL: 'true' }).recovery.requireVerifiedEmail).toBe(true);
  });

  it('accepts booleans in any case', () => {
    expect(validateEnv({ COOKIE_SECURE: 'FALSE' }).auth.cookieSecure).toBe(false);
    expect(validateEnv({ COOKIE_SECURE: 'Yes' }).auth.cookieSecure).toBe(true);
    expect(validateEnv({ COOKIE_SECURE: '0' }).auth.cookieSecure).toBe(false);
  });

  it('serves the console and takes registrations unless told not to', () => {
    const defaults = validateEnv({});
    expect([defaults.app.consoleEnabled, defaults.auth.registrationEnabled]).toEqual([true, true]);
    const off = validateEnv({ CONSOLE_ENABLED: 'false', REGISTRATION_ENABLED: 'no' });
    expect([off.app.consoleEnabled, off.auth.registrationEnabled]).toEqual([false, false]);
  });

  it('names every problem at once: a rule across keys still runs when an unrelated key is bad', () => {
    const message = refusal({ NODE_ENV: 'production', PORT: 'abc', TRUST_PROXY: 'banana' });
    expect(message).toContain('PORT: must be');
    expect(message).toContain('TRUST_PROXY: must be');
    expect(message).toContain('AUTH_SECRET: is required when NODE_ENV=production');
    // …but not on a value that is itself refused: one message per mistake.
    expect(refusal({ SESSION_IDLE_TTL: 'soon' })).not.toContain('must not exceed');
    expect(refusal({ NODE_ENV: 'test', ARGON2_MEMORY_COST: 'x' })).not.toContain('OWASP');
  });
});
