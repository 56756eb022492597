import { hashRefreshToken, newRefreshToken, REFRESH_TOKEN_PATTERN, successorOf } from './refresh-token';

describe('refresh tokens', () => {
  const key = Buffer.alloc(32, 7);

  it('are 256 random bits, base64url, and differ every time', () => {
    const tokens = new Set(Array.from({ length: 1000 }, newRefreshToken));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) {
      expect(t).toMatch(REFRESH_TOKEN_PATTERN);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
  });

  it('are stored as SHA-256 hex, never as themselves', () => {
    const token = newRefreshToken();
    expect(hashRefreshToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(token)).not.toContain(token);
  });

  it('have one successor per key: the same for every request holding the token, unguessable without the key', () => {
    const token = newRefreshToken();
    expect(successorOf(token, key)).toBe(successorOf(token, key));
    expect(successorOf(token, key)).toMatch(REFRESH_TOKEN_PATTERN);
    expect(successorOf(token, key)).not.toBe(token);
    expect(successorOf(token, Buffer.alloc(32, 8))).not.toBe(successorOf(token, key));
    expect(successorOf(newRefreshToken(), key)).not.toBe(successorOf(token, key));
  });
});
