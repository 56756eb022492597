import { Injectable, Module } from '@nestjs/common';
import type { SignInFacts } from '../../src/auth/sign-in/sign-in-facts';
import { ProvidesSignInMethod, ProvidesSignInRule, type SignInMethod, type SignInRule } from '../../src/auth/sign-in/sign-in-method';
import type { Tx } from '../../src/database/tx';
import { newUser, type TestUser } from '../support/factories';
import { useApp } from '../support/test-app';

/** The users who have this spec's second factor. */
const enrolled = new Set<string>();

/**
 * A second factor that exists only in this spec: one class that registers itself, and one
 * policy rule. Nothing in src/ knows it; mounted as a feature module is (extraImports).
 */
@ProvidesSignInMethod()
@Injectable()
class SpecOnlyFactor implements SignInMethod {
  readonly name = 'spec_otp';
  async offeredAfter(_tx: Tx, facts: SignInFacts): Promise<boolean> {
    return enrolled.has(facts.userId);
  }
}

/** Its rule: a user who has it must give it. */
@ProvidesSignInRule()
@Injectable()
class SpecOnlyFactorRule implements SignInRule {
  async requires(_tx: Tx, facts: SignInFacts): Promise<'aal2' | null> {
    return enrolled.has(facts.userId) ? 'aal2' : null;
  }
}

@Module({ providers: [SpecOnlyFactor, SpecOnlyFactorRule] })
class SpecOnlyFactorModule {}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

describe('sign-in as steps: a method proves, the policy decides, only then a session opens', () => {
  const t = useApp({}, { extraImports: [SpecOnlyFactorModule] });

  const login = (user: TestUser, headers: Record<string, string> = {}) =>
    t.http.post('/auth/login', { email: user.email, password: user.password }, { headers });
  const sessionIdsOf = async (userId: string) => (await t.server.prisma.session.findMany({ where: { userId }, orderBy: { id: 'asc' } })).map((s) => s.id);
  const loginsAudited = (userId: string) => t.server.prisma.auditEvent.count({ where: { userId, type: 'login.succeeded' } });

  it('answers mfaRequired to a user the policy wants a second factor of: no session, no refresh token, no cookie, no device', async () => {
    const user = await newUser(t.http);
    enrolled.add(user.id);
    const sessionsBefore = await sessionIdsOf(user.id);
    expect(sessionsBefore).toEqual([user.sessionId]);

    for (const headers of [{}, { 'x-auth-mode': 'cookie' }] as Record<string, string>[]) {
      const res = await login(user, headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), methods: ['spec_otp'], expiresIn: 300 });
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect(await sessionIdsOf(user.id)).toEqual(sessionsBefore);
    expect(await loginsAudited(user.id)).toBe(0);
    const devices = await t.http.get('/auth/sessions', { token: user.accessToken });
    expect(devices.status).toBe(200);
    expect(devices.body.map((d: { id: string }) => d.id)).toEqual([user.sessionId]);

    // The policy is asked only once the password was right: a wrong one is the usual 401.
    const wrong = await t.http.post('/auth/login', { email: user.email, password: `${user.password}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('Invalid email or password');
  });

  it('signs every other user in as before: a session with the password’s facts, and the device cookie', async () => {
    const user = await newUser(t.http);
    const res = await login(user);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      sessionId: expect.any(String),
      user: expect.objectContaining({ id: user.id, email: user.email }),
    });
    expect(res.headers.get('set-cookie')).toMatch(/^auth_device=/);
    expect(await sessionIdsOf(user.id)).toEqual([user.sessionId, res.body.sessionId].sort());
    expect(await loginsAudited(user.id)).toBe(1);
    expect((await t.http.get('/auth/me', { token: res.body.accessToken })).status).toBe(200);
  });

  it('records auth_time, amr and acr on the session, puts them in its access tokens, and keeps them through a refresh', async () => {
    const user = await newUser(t.http);
    const before = Date.now();
    const res = await login(user);
    const after = Date.now();
    const session = await t.server.prisma.session.findUniqueOrThrow({ where: { id: res.body.sessionId } });
    expect({ amr: session.amr, acr: session.acr }).toEqual({ amr: ['pwd'], acr: 'aal1' });
    expect(session.authTime.getTime()).toBeGreaterThanOrEqual(before);
    expect(session.authTime.getTime()).toBeLessThanOrEqual(after);
    expect(claimsOf(res.body.accessToken)).toMatchObject({ auth_time: Math.floor(session.authTime.getTime() / 1000), amr: ['pwd'], acr: 'aal1' });

    // A refresh is not an authentication: its token carries the session's auth_time, whenever the refresh happens.
    const signedInAt = new Date('2026-01-02T03:04:05.000Z');
    await t.server.prisma.session.update({ where: { id: session.id }, data: { authTime: signedInAt } });
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: res.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(claimsOf(refreshed.body.accessToken)).toMatchObject({ sid: session.id, auth_time: signedInAt.getTime() / 1000, amr: ['pwd'], acr: 'aal1' });
    // So does the grace answer to a concurrent refresh with the same token.
    const again = await t.http.post('/auth/refresh', { refreshToken: res.body.refreshToken });
    expect(again.status).toBe(200);
    expect(claimsOf(again.body.accessToken)).toMatchObject({ auth_time: signedInAt.getTime() / 1000, amr: ['pwd'], acr: 'aal1' });
    expect((await t.http.get('/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
  });
});
