import { Logger } from '@nestjs/common';
import { EMAIL_PROBLEMS } from '../../src/users/email';
import { ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { useApp } from '../support/test-app';
import { expectError } from './support';

const H_MACRON_BELOW = (local: string) => `H\u0331${local}@example.com`;
const H_WITH_LINE_BELOW = (local: string) => `\u1e96${local}@example.com`;
const UNSTORABLE = (field: string) => `${field} must not contain NUL characters or unpaired surrogates`;

/**
 * Unicode spellings of an email (one account, one throttle key, nothing invisible or
 * mixed-script), text PostgreSQL or UTF-8 cannot hold (NUL, lone surrogates), and the
 * start-up step that brings emails stored under an older normal form to today's.
 */
describe('unicode input', () => {
  const t = useApp({ ...ADMIN_ENV, RATE_LIMIT_LOGIN: '3', TRUST_PROXY: 'true' });
  let admin: { accessToken: string };

  // A fresh client address per attempt: only the per-email limit can trip.
  let attempts = 0;
  const login = (email: string, password: string) => {
    attempts++;
    const ip = `10.77.${Math.floor(attempts / 250)}.${(attempts % 250) + 1}`;
    return t.http.post('/auth/login', { email, password }, { headers: { 'x-forwarded-for': ip } });
  };
  const post = (path: string, body: string) => t.http.request('POST', path, { body, headers: { 'content-type': 'application/json' } });
  const userCount = () => t.server.prisma.user.count();

  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  describe('one account, one spelling', () => {
    it('counts logins spelled H + U+0331 against the per-email limit of the account registered as U+1E96', async () => {
      const user = await newUser(t.http, { email: H_WITH_LINE_BELOW('acker') });
      for (let i = 0; i < 3; i++) expect((await login(H_MACRON_BELOW('acker'), `wrong guess ${i}`)).status).toBe(401);
      const fourth = await login(H_WITH_LINE_BELOW('acker'), user.password);
      expectError(fourth, 429);
    });

    it('refuses to register the other spelling of a taken address: 409', async () => {
      await newUser(t.http, { email: H_WITH_LINE_BELOW('ank') });
      const res = await t.http.post('/auth/register', { email: H_MACRON_BELOW('ank'), password: 'password123' });
      expectError(res, 409);
    });
  });

  describe('invisible and look-alike characters in emails', () => {
    it.each([
      ['a zero-width space', 'ali\u200bce@example.com', EMAIL_PROBLEMS.invisible],
      ['a right-to-left override', 'ali\u202ece@example.com', EMAIL_PROBLEMS.invisible],
      ['fullwidth letters', 'ａｌｉｃｅ@example.com', EMAIL_PROBLEMS.compatibility],
      ['Cyrillic а in a Latin local part', 'p\u0430ypal@example.com', EMAIL_PROBLEMS.mixedScripts],
      ['Cyrillic а in a Latin domain label', 'alice@ex\u0430mple.com', EMAIL_PROBLEMS.mixedScripts],
    ])('refuses an email with %s: 400 saying so on register and login, and creates nothing', async (_, email, problem) => {
      const before = await userCount();
      const registered = await t.http.post('/auth/register', { email, password: 'password123' });
      expectError(registered, 400);
      expect(registered.body.message).toContain(problem);
      const loggedIn = await login(email, 'password123');
      expectError(loggedIn, 400);
      expect(loggedIn.body.message).toContain(problem);
      expect(await userCount()).toBe(before);
    });

    it('keeps the one generic 401 for a well-formed email nobody has', async () => {
      const res = await login('\u1e96ugo@example.com', 'password123');
      expectError(res, 401);
      expect(res.body.message).toBe('Invalid email or password');
    });
  });

  describe('NUL and unpaired surrogates', () => {
    it('answers GET /admin/users?email=%00 with 400 naming the field, not 500', async () => {
      const res = await t.http.get('/admin/users?email=%00', { token: admin.accessToken });
      expectError(res, 400);
      expect(res.body.message).toEqual([UNSTORABLE('email')]);
    });

    it('refuses NUL in a route parameter: 400 naming it', async () => {
      const res = await t.http.get('/admin/users/a%00b/sessions', { token: admin.accessToken });
      expectError(res, 400);
      expect(res.body.message).toEqual([UNSTORABLE('id')]);
    });

    it.each([
      ['a field', '{"email":"nul1@example.com","password":"pass\\u0000word"}', 'password'],
      ['a nested field', '{"email":"nul2@example.com","password":"password123","name":{"a":["x","\\u0000"]}}', 'name.a.1'],
      ['a key', '{"email":"nul3@example.com","password":"password123","\\u0000":"x"}', 'keys'],
    ])('refuses NUL in %s of a JSON body: 400 naming it, nothing created', async (_, body, field) => {
      const before = await userCount();
      const res = await post('/auth/register', body);
      expectError(res, 400);
      expect(res.body.message).toEqual([UNSTORABLE(field)]);
      expect(await userCount()).toBe(before);
    });

    it.each([
      ['a high', 'pass\\ud800word'],
      ['a low', 'pass\\udc00word'],
    ])('refuses a password with %s lone surrogate on register and login: 400, nothing created', async (_, password) => {
      const before = await userCount();
      const registered = await post('/auth/register', `{"email":"surrogate@example.com","password":"${password}"}`);
      expectError(registered, 400);
      expect(registered.body.message).toEqual([UNSTORABLE('password')]);
      expect(await userCount()).toBe(before);
      const loggedIn = await post('/auth/login', `{"email":"surrogate@example.com","password":"${password}"}`);
      expectError(loggedIn, 400);
      expect(loggedIn.body.message).toEqual([UNSTORABLE('password')]);
    });

    it('accepts a surrogate pair (an emoji) in a password', async () => {
      const res = await post('/auth/register', '{"email":"emoji-password@example.com","password":"pass\\ud83e\\udd84word"}');
      expect(res.status).toBe(201);
      expect((await login('emoji-password@example.com', 'pass🦄word')).status).toBe(200);
    });

    it('refuses a body that is not UTF-8 instead of reading U+FFFD into it', async () => {
      const body = Buffer.concat([Buffer.from('{"email":"latin1@example.com","password":"pass'), Buffer.from([0xff]), Buffer.from('word"}')]);
      const res = await fetch(`${t.server.baseUrl}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ statusCode: 400, message: 'JSON body is not valid UTF-8', error: 'Bad Request' });
      expect(await t.server.prisma.user.count({ where: { email: 'latin1@example.com' } })).toBe(0);
    });
  });

  describe('emails stored under an older normal form, re-spelled at start', () => {
    /** A registered account whose stored email is then set to `stored`, as older versions could have written it. */
    const legacyUser = async (stored: string) => {
      const user = await newUser(t.http);
      await t.server.prisma.user.update({ where: { id: user.id }, data: { email: stored } });
      return user;
    };
    const emailOf = async (id: string) => (await t.server.prisma.user.findUniqueOrThrow({ where: { id } })).email;
    /**
     * The warnings of a restart. Spied rather than read from t.server.logs(): nestjs-pino
     * keeps the first app's log stream for the whole process (as in first-admin.e2e-spec).
     */
    const warningsOf = async (restart: () => Promise<void>) => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      try {
        await restart();
        return warn.mock.calls.map((args) => String(args[0]));
      } finally {
        warn.mockRestore();
      }
    };

    it('re-spells a free address, and leaves colliding accounts unchanged with a warning naming their ids only', async () => {
      const harold = await legacyUser(H_MACRON_BELOW('arold'));
      const owner = await newUser(t.http, { email: 'collide@example.com' });
      const lookalike = await legacyUser('ｃｏｌｌｉｄｅ@example.com');
      const both = [await legacyUser('ｂｏｔｈ@example.com'), await legacyUser('ＢＯＴＨ@example.com')];
      // Under today's normal form the stored spelling is out of reach.
      expect((await login(H_MACRON_BELOW('arold'), harold.password)).status).toBe(401);

      const warnings = await warningsOf(() => t.restart());

      expect(await emailOf(harold.id)).toBe(H_WITH_LINE_BELOW('arold'));
      expect((await login(H_MACRON_BELOW('arold'), harold.password)).status).toBe(200);
      expect((await login(H_WITH_LINE_BELOW('arold'), harold.password)).status).toBe(200);

      expect([await emailOf(owner.id), await emailOf(lookalike.id)]).toEqual(['collide@example.com', 'ｃｏｌｌｉｄｅ@example.com']);
      expect([await emailOf(both[0].id), await emailOf(both[1].id)]).toEqual(['ｂｏｔｈ@example.com', 'ＢＯＴＨ@example.com']);
      expect(await t.server.prisma.user.count({ where: { email: 'both@example.com' } })).toBe(0);
      expect((await login('collide@example.com', owner.password)).status).toBe(200);

      const lines = warnings.filter((line) => line.startsWith('Email collision'));
      expect(lines).toHaveLength(2);
      expect(lines.filter((line) => line.includes(owner.id) && line.includes(lookalike.id))).toHaveLength(1);
      expect(lines.filter((line) => line.includes(both[0].id) && line.includes(both[1].id))).toHaveLength(1);
      expect(lines.join('\n')).not.toMatch(/@|collide|ｃｏｌｌｉｄｅ|ｂｏｔｈ/i);
    });

    it('is idempotent: a second start changes nothing, and warns of the unresolved collisions again', async () => {
      const users = () => t.server.prisma.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, email: true } });
      const before = await users();
      const warnings = await warningsOf(() => t.restart());
      expect(await users()).toEqual(before);
      expect(warnings.filter((line) => line.startsWith('Email collision'))).toHaveLength(2);
    });
  });
});
