import { randomBytes } from 'node:crypto';
import { newUser } from '../support/factories';
import type { HttpResponse } from '../support/http';
import { useApp } from '../support/test-app';
import { expectError } from './support';

const APP_ORIGIN = 'https://app.example.com';
const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers'];

/** A fresh client IP per login, so that the login rate limit of this app bites only where meant. */
const ip = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

describe('security headers, CORS and caching', () => {
  const t = useApp({ CORS_ORIGINS: `${APP_ORIGIN}, https://admin.example.com`, RATE_LIMIT_LOGIN: '2', TRUST_PROXY: 'true' });

  const preflight = (origin: string, path = '/auth/refresh') =>
    t.http.request('OPTIONS', path, {
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-auth-mode' },
    });
  const login = (email: string, password: string, headers: Record<string, string> = {}) =>
    t.http.post('/auth/login', { email, password }, { headers: { 'x-forwarded-for': ip(), ...headers } });

  describe('helmet', () => {
    const expectHelmet = (res: HttpResponse) => {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('content-security-policy')).toMatch(/object-src 'none'/);
      const hsts = /max-age=(\d+)/.exec(res.headers.get('strict-transport-security') ?? '');
      expect(Number(hsts?.[1])).toBeGreaterThanOrEqual(15_552_000);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('server')).toBeNull();
    };

    it('sets its headers on successes and on errors alike', async () => {
      const user = await newUser(t.http);
      const ok = await t.http.get('/auth/me', { token: user.accessToken });
      expect(ok.status).toBe(200);
      const responses = [
        ok,
        await t.http.get('/health'),
        await t.http.get('/auth/me'),
        await t.http.post('/auth/register', { email: 'x' }),
        await t.http.request('POST', '/auth/login', { body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        await t.http.post('/auth/register', { email: 'big@example.com', password: 'p'.repeat(17_000) }),
        await t.http.get('/auth/nothing-here'),
      ];
      expect(responses.map((r) => r.status)).toEqual([200, 200, 401, 400, 415, 413, 404]);
      for (const res of responses) expectHelmet(res);
    });
  });

  describe('CORS with CORS_ORIGINS', () => {
    it('answers a preflight from a listed origin with its origin, credentials, methods and X-Auth-Mode', async () => {
      const res = await preflight(APP_ORIGIN);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(res.headers.get('access-control-allow-headers')).toMatch(/X-Auth-Mode/i);
      expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
      expect(res.headers.get('vary')).toMatch(/Origin/i);
      expect((await preflight('https://admin.example.com')).headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    });

    it('gives a listed origin’s real requests its origin and credentials (cookie-mode login)', async () => {
      const user = await newUser(t.http);
      const res = await login(user.email, user.password, { origin: APP_ORIGIN, 'x-auth-mode': 'cookie' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('vary')).toMatch(/Origin/i);
      // Errors too: a browser app must be able to read its 401.
      const refused = await t.http.get('/auth/me', { headers: { origin: APP_ORIGIN } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    });

    it.each([
      'https://evil.example.com',
      'https://app.example.com.evil.com',
      'https://evilapp.example.com',
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://APP.EXAMPLE.COM',
      'null',
      `${APP_ORIGIN}, https://evil.example.com`,
    ])('gives the unlisted origin %s no CORS header at all, preflight or request', async (origin) => {
      const pre = await preflight(origin);
      expect(pre.status).not.toBe(204);
      expect(pre.status).toBeLessThan(500);
      const user = await newUser(t.http);
      const res = await login(user.email, user.password, { origin });
      expect(res.status).toBe(200);
      for (const r of [pre, res]) for (const h of CORS_HEADERS) expect([h, r.headers.get(h)]).toEqual([h, null]);
    });
  });

  describe('Cache-Control: no-store on every /auth response', () => {
    it('on successes: 200, 201, 204, and on the CORS preflight', async () => {
      const register = await t.http.post('/auth/register', { email: `cache-${randomBytes(4).toString('hex')}@example.com`, password: 'password123' });
      expect(register.status).toBe(201);
      const refreshed = await t.http.post('/auth/refresh', { refreshToken: register.body.refreshToken });
      expect(refreshed.status).toBe(200);
      const me = await t.http.get('/auth/me', { token: refreshed.body.accessToken });
      const sessions = await t.http.get('/auth/sessions', { token: refreshed.body.accessToken });
      const logout = await t.http.post('/auth/logout', undefined, { token: refreshed.body.accessToken });
      const pre = await preflight(APP_ORIGIN, '/auth/login');
      expect([register, refreshed, me, sessions, logout, pre].map((r) => r.status)).toEqual([201, 200, 200, 200, 204, 204]);
      for (const res of [register, refreshed, me, sessions, logout, pre]) expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('on errors: 400, 401, 403, 404, 409, 413, 415 and 429', async () => {
      const user = await newUser(t.http);
      const other = await newUser(t.http);
      const cookieLogin = await login(user.email, user.password, { 'x-auth-mode': 'cookie' });
      const cookie = cookieLogin.headers.getSetCookie()[0].split(';')[0];
      const address = ip();
      const attempt = () => t.http.post('/auth/login', { email: user.email, password: 'wrong password' }, { headers: { 'x-forwarded-for': address } });
      await attempt();
      await attempt();
      const responses: Array<[number, HttpResponse]> = [
        [400, await t.http.post('/auth/register', { email: 'not-an-email', password: 'x' })],
        [401, await t.http.get('/auth/me', { token: 'garbage' })],
        [401, await login(other.email, 'wrong password')],
        [403, await t.http.post('/auth/refresh', undefined, { headers: { cookie } })],
        [404, await t.http.get('/auth/nothing-here')],
        [404, await t.http.delete('/auth/sessions/not-a-uuid', { token: user.accessToken })],
        [409, await t.http.post('/auth/register', { email: user.email, password: 'password123' })],
        [413, await t.http.post('/auth/login', { email: user.email, password: 'p'.repeat(17_000) })],
        [415, await t.http.request('POST', '/auth/login', { body: 'x', headers: { 'content-type': 'text/plain' } })],
        [429, await attempt()],
      ];
      for (const [status, res] of responses) {
        expectError(res, status);
        expect(res.headers.get('cache-control')).toBe('no-store');
      }
    });
  });
});

describe('CORS without CORS_ORIGINS (the default)', () => {
  const t = useApp();

  it('sends no CORS header to any origin, and answers no preflight', async () => {
    for (const origin of [APP_ORIGIN, 'https://evil.example.com', 'null']) {
      const pre = await t.http.request('OPTIONS', '/auth/login', { headers: { origin, 'access-control-request-method': 'POST' } });
      expectError(pre, 405);
      const res = await t.http.get('/health', { headers: { origin } });
      for (const r of [pre, res]) for (const h of CORS_HEADERS) expect([h, r.headers.get(h)]).toEqual([h, null]);
    }
  });
});
