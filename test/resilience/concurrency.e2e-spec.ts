import { randomBytes } from 'node:crypto';
import { hashRefreshToken } from '../../src/auth/tokens/refresh-token';
import { newSession, newUser } from '../support/factories';
import { Http, type HttpResponse } from '../support/http';
import { sleep } from '../support/wait';
import { startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Many requests at once on one session or one user, as several tabs, retries and
 * impatient clients produce them. The outcome is checked in the database too: what a
 * client was told must be what the database holds.
 */
describe('concurrency: one token, one user, logout against refresh', () => {
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Each test speaks as a client of its own (X-Forwarded-For), so that the refresh
    // limit per IP, counted in the database, is the limit of one client, as in production.
    server = await startApp(db, { TRUST_PROXY: 'true' });
    http = new Http(server.baseUrl);
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const newIp = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0] % 250)}`;
  const refresh = (refreshToken: string, ip: string) => http.post('/auth/refresh', { refreshToken }, { headers: { 'x-forwarded-for': ip } });
  const me = (accessToken: string) => http.get('/auth/me', { token: accessToken });

  it('gives 100 concurrent refreshes of one token one same new token; the session moves on by exactly one rotation', async () => {
    const ip = newIp();
    const user = await newUser(http);

    const results = await Promise.all(Array.from({ length: 100 }, () => refresh(user.refreshToken, ip)));

    expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
    const issued = new Set(results.map((r) => r.body.refreshToken as string));
    expect(issued.size).toBe(1);
    const [next] = issued;
    expect(next).not.toBe(user.refreshToken);
    expect(new Set(results.map((r) => r.body.sessionId))).toEqual(new Set([user.sessionId]));
    // Every tab got a working access token of its own.
    const accessTokens = new Set(results.map((r) => r.body.accessToken as string));
    expect(accessTokens.size).toBe(100);
    const checks = await Promise.all([...accessTokens].slice(0, 10).map(me));
    expect(checks.map((r) => r.status)).toEqual(Array(10).fill(200));

    const session = await server.prisma.session.findUniqueOrThrow({ where: { id: user.sessionId } });
    expect(session.generation).toBe(1);
    expect(session.revokedAt).toBeNull();
    expect(session.refreshTokenHash).toBe(hashRefreshToken(next));
    const rotated = await server.prisma.rotatedRefreshToken.findMany({ where: { sessionId: user.sessionId } });
    expect(rotated).toEqual([expect.objectContaining({ tokenHash: hashRefreshToken(user.refreshToken), generation: 0 })]);

    // The shared new token is the session's one valid token: it rotates once more.
    const after = await refresh(next, ip);
    expect(after.status).toBe(200);
    expect(after.body.refreshToken).not.toBe(next);
  });

  it('opens 50 sessions for 50 concurrent logins of one user, each with its own working tokens', async () => {
    const ip = newIp();
    const user = await newUser(http);

    const logins = await Promise.all(
      Array.from({ length: 50 }, () => http.post('/auth/login', { email: user.email, password: user.password }, { headers: { 'x-forwarded-for': ip } })),
    );

    expect(logins.map((r) => r.status)).toEqual(Array(50).fill(200));
    const sessionIds = new Set(logins.map((r) => r.body.sessionId as string));
    const refreshTokens = new Set(logins.map((r) => r.body.refreshToken as string));
    expect(sessionIds.size).toBe(50);
    expect(refreshTokens.size).toBe(50);
    expect(sessionIds.has(user.sessionId)).toBe(false);

    const sessions = await server.prisma.session.findMany({ where: { userId: user.id } });
    expect(sessions).toHaveLength(51); // the 50 logins and the registration
    const stored = new Set(sessions.map((s) => s.refreshTokenHash));
    expect(stored.size).toBe(51);
    for (const login of logins) {
      const session = sessions.find((s) => s.id === login.body.sessionId);
      expect(session?.refreshTokenHash).toBe(hashRefreshToken(login.body.refreshToken));
    }

    const [meResults, refreshResults] = await Promise.all([
      Promise.all(logins.map((r) => me(r.body.accessToken))),
      Promise.all(logins.map((r) => refresh(r.body.refreshToken, ip))),
    ]);
    expect(meResults.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(refreshResults.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(refreshResults.map((r) => r.body.sessionId)).toEqual(logins.map((r) => r.body.sessionId));
  });

  it('never leaves a session alive after logout answered 204, however logout and refresh race (30 rounds)', async () => {
    const ip = newIp();
    const user = await newUser(http);
    const outcomes = { refreshFirst: 0, logoutFirst: 0 };

    for (let round = 0; round < 30; round++) {
      const session = await newSession(http, user, { 'x-forwarded-for': ip });
      // Both in flight together; which one the database serialises first is the race.
      // Rounds alternate which request leaves first, and the other follows 0 to 14 ms
      // later: together they cover both orders and the photo finishes in between.
      const lead = Math.floor(round / 2);
      const logoutRequest = () => http.post('/auth/logout', undefined, { token: session.accessToken, headers: { 'x-forwarded-for': ip } });
      const refreshRequest = () => refresh(session.refreshToken, ip);
      let logout: HttpResponse, refreshed: HttpResponse;
      if (round % 2 === 0) {
        const first = logoutRequest();
        await sleep(lead);
        [logout, refreshed] = await Promise.all([first, refreshRequest()]);
      } else {
        const first = refreshRequest();
        await sleep(lead);
        [refreshed, logout] = await Promise.all([first, logoutRequest()]);
      }

      expect(logout.status).toBe(204);
      expect([200, 401]).toContain(refreshed.status);
      if (refreshed.status === 200) {
        // Refresh won: logout ended the session after it, taking the new tokens with it.
        outcomes.refreshFirst++;
        expect(refreshed.body.sessionId).toBe(session.sessionId);
        expect((await refresh(refreshed.body.refreshToken, ip)).status).toBe(401);
        expect((await me(refreshed.body.accessToken)).status).toBe(401);
      } else {
        outcomes.logoutFirst++;
        expect(refreshed.body.message).toBe('Session has ended');
      }
      expect((await refresh(session.refreshToken, ip)).status).toBe(401);
      expect((await me(session.accessToken)).status).toBe(401);

      const row = await server.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } });
      expect(row.revokedAt).not.toBeNull();
      expect(row.revokedReason).toBe('LOGOUT');
      // At most the one rotation the winning refresh made, and only if it did win.
      expect(row.generation).toBe(refreshed.status === 200 ? 1 : 0);
    }
    expect(outcomes.refreshFirst + outcomes.logoutFirst).toBe(30);
  });
});
