import type { SessionAuthority, SessionsRepository } from '../sessions/sessions.repository';
import { FallbackChecks } from './fallback-checks';

const token = { sub: 'user-1', sid: 'session-1', ver: 3, role: 'USER' as const, kid: 'key-1' };
const noKeyRevoked = { isRevoked: async () => false };
const live: SessionAuthority = { userId: 'user-1', ended: false, refreshTokenVersion: 3, role: 'ADMIN' };

/** A sessions repository whose answers the test controls, counting the reads. */
function repository(answer: () => Promise<SessionAuthority | null>) {
  const reads = { count: 0 };
  const sessions = { authority: () => (reads.count++, answer()) } as unknown as SessionsRepository;
  return { sessions, reads };
}

describe('FallbackChecks: the database check while memory cannot be trusted', () => {
  it('answers from the database: the current role for a live session, revoked for an ended one, an older version, another user or no session', async () => {
    const cases: Array<[SessionAuthority | null, object]> = [
      [live, { revoked: false, role: 'ADMIN' }],
      [{ ...live, ended: true }, { revoked: true }],
      [{ ...live, refreshTokenVersion: 4 }, { revoked: true }],
      [{ ...live, userId: 'someone-else' }, { revoked: true }],
      [null, { revoked: true }],
    ];
    for (const [authority, verdict] of cases) {
      const { sessions } = repository(async () => authority);
      await expect(new FallbackChecks(sessions, noKeyRevoked, 1_000).check(token)).resolves.toEqual(verdict);
    }
  });

  it('shares one query among concurrent checks of one session', async () => {
    let release!: (a: SessionAuthority) => void;
    const { sessions, reads } = repository(() => new Promise((resolve) => (release = resolve)));
    const checks = new FallbackChecks(sessions, noKeyRevoked, 1_000);
    const answers = Promise.all(Array.from({ length: 50 }, () => checks.check(token)));
    release(live);
    expect(await answers).toHaveLength(50);
    expect(reads.count).toBe(1);
  });

  it('reuses an answer for a quarter of the staleness bound only, and never a failure', async () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      let fail = true;
      const { sessions, reads } = repository(async () => {
        if (fail) throw new Error('database unreachable');
        return live;
      });
      const checks = new FallbackChecks(sessions, noKeyRevoked, 1_000);
      await expect(checks.check(token)).rejects.toThrow('database unreachable');
      fail = false;
      await checks.check(token);
      await checks.check(token);
      expect(reads.count).toBe(2);
      now.mockReturnValue(1_000_000 + 251);
      await checks.check(token);
      expect(reads.count).toBe(3);
      // Another token of the session (a newer version) is not answered from the old one.
      await checks.check({ ...token, ver: 4 });
      expect(reads.count).toBe(4);
    } finally {
      now.mockRestore();
    }
  });

  it('refuses every token of a key the database has revoked, with one query per key shared by its tokens, and reports the key', async () => {
    let keyReads = 0;
    let revoked = false;
    const keys = { isRevoked: async (kid: string) => (keyReads++, revoked && kid === 'key-1') };
    const { sessions } = repository(async () => live);
    const heard: string[] = [];
    const now = jest.spyOn(Date, 'now').mockReturnValue(2_000_000);
    try {
      const checks = new FallbackChecks(sessions, keys, 1_000, (kid) => heard.push(kid));
      await expect(Promise.all([checks.check(token), checks.check({ ...token, sid: 'session-2' })])).resolves.toEqual([
        { revoked: false, role: 'ADMIN' },
        { revoked: false, role: 'ADMIN' },
      ]);
      expect(keyReads).toBe(1);
      revoked = true;
      now.mockReturnValue(2_000_000 + 251);
      await expect(checks.check(token)).resolves.toEqual({ revoked: true });
      await expect(checks.check({ ...token, kid: 'key-2' })).resolves.toEqual({ revoked: false, role: 'ADMIN' });
      expect(keyReads).toBe(3);
      // Reported once, as the notification this instance missed would have said it.
      await checks.check(token);
      expect(heard).toEqual(['key-1']);
    } finally {
      now.mockRestore();
    }
  });
});
