import { ExpiringLru } from './verified-tokens';

type Entry = { expiresAt: number; n: number };

describe('ExpiringLru: the verification cache of access tokens', () => {
  it('never holds more than its bound: the least recently used goes first', () => {
    const cache = new ExpiringLru<Entry>(3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, { expiresAt: 10_000, n: i });
    expect(cache.get('a', 0)?.n).toBe(0); // a is now the most recently used
    cache.set('d', { expiresAt: 10_000, n: 3 });
    expect(cache.size).toBe(3);
    expect(cache.get('b', 0)).toBeUndefined();
    expect([cache.get('a', 0)?.n, cache.get('c', 0)?.n, cache.get('d', 0)?.n]).toEqual([0, 2, 3]);
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, { expiresAt: 10_000, n: i });
    expect(cache.size).toBe(3);
    expect(cache.get('k9999', 0)?.n).toBe(9999);
  });

  it('never returns an entry at or past its expiry (the token’s exp), and forgets it', () => {
    const cache = new ExpiringLru<Entry>(10);
    cache.set('t', { expiresAt: 1_000, n: 1 });
    expect(cache.get('t', 999)?.n).toBe(1);
    expect(cache.get('t', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get('t', 0)).toBeUndefined();
  });

  it('is keyed by the exact token string', () => {
    const cache = new ExpiringLru<Entry>(10);
    cache.set('abc.def.ghi', { expiresAt: 1_000, n: 1 });
    expect(cache.get('abc.def.ghI', 0)).toBeUndefined();
    expect(cache.get('abc.def.gh', 0)).toBeUndefined();
    cache.clear();
    expect(cache.get('abc.def.ghi', 0)).toBeUndefined();
  });
});
