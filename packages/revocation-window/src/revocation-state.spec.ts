import { RevocationState } from './revocation-state';

const U = '00000000-0000-4000-8000-000000000001';
const S1 = '00000000-0000-4000-8000-0000000000a1';
const S2 = '00000000-0000-4000-8000-0000000000a2';
const token = (over: Partial<{ sub: string; sid: string; ver: number; role: 'USER' | 'ADMIN'; kid: string }> = {}) => ({
  sub: U,
  sid: S1,
  ver: 0,
  role: 'USER' as const,
  kid: 'key-1',
  ...over,
});

describe('RevocationState', () => {
  it('refuses tokens of an ended session, and only those', () => {
    const state = new RevocationState(60_000);
    state.apply({ kind: 'SESSION_ENDED', userId: U, sessionId: S1, at: 0 });
    expect(state.verdict(token())).toEqual({ revoked: true });
    expect(state.verdict(token({ sid: S2 }))).toEqual({ revoked: false, role: 'USER' });
  });

  it('refuses tokens whose version is below the user’s current one, whatever the order events arrive in', () => {
    const state = new RevocationState(60_000);
    state.apply({ kind: 'USER_TOKENS_REVOKED', userId: U, refreshTokenVersion: 2, at: 10 });
    state.apply({ kind: 'USER_TOKENS_REVOKED', userId: U, refreshTokenVersion: 1, at: 5 });
    expect(state.verdict(token({ ver: 1 }))).toEqual({ revoked: true });
    expect(state.verdict(token({ ver: 2 }))).toEqual({ revoked: false, role: 'USER' });
  });

  it('gives the current role rather than the token’s claim after a role change', () => {
    const state = new RevocationState(60_000);
    state.apply({ kind: 'ROLE_CHANGED', userId: U, role: 'USER', at: 10 });
    state.apply({ kind: 'ROLE_CHANGED', userId: U, role: 'ADMIN', at: 5 }); // older: ignored
    expect(state.verdict(token({ role: 'ADMIN' }))).toEqual({ revoked: false, role: 'USER' });
  });

  it('refuses every token signed by a revoked key, and only those, until the window has passed', () => {
    const state = new RevocationState(1_000);
    state.apply({ kind: 'KEY_REVOKED', kid: 'key-1', at: 0 });
    expect(state.verdict(token())).toEqual({ revoked: true });
    expect(state.verdict(token({ kid: 'key-2' }))).toEqual({ revoked: false, role: 'USER' });
    expect(state.size).toBe(1);
    state.prune(1_000);
    expect(state.size).toBe(0);
  });

  it('forgets every entry once its window has passed, so memory is bounded by one TTL of revocations', () => {
    const state = new RevocationState(1_000);
    for (let i = 0; i < 100_000; i++) {
      state.apply({ kind: 'SESSION_ENDED', userId: U, sessionId: `s${i}`, at: i % 500 });
    }
    state.apply({ kind: 'USER_TOKENS_REVOKED', userId: U, refreshTokenVersion: 1, at: 0 });
    expect(state.size).toBe(100_001);
    state.prune(1_498);
    expect(state.size).toBe(200); // the 200 revoked at 499 are still within their window
    state.prune(1_499);
    expect(state.size).toBe(0);
    expect(state.verdict(token({ sid: 's1' }))).toEqual({ revoked: false, role: 'USER' });
  });
});
