import { hashRefreshToken, newRefreshToken, REFRESH_TOKEN_PATTERN, RefreshTokens, successorOf } from './refresh-token';
import { deriveKey, secretKey } from '../secret/server-secret';

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

describe('RefreshTokens while the server secret rotates', () => {
  const OLD = 'the-previous-server-secret-of-32-bytes-at-least';
  const NEW = 'the-current-server-secret-of-32-bytes-or-more!!';

  it('derives successors exactly as before (HKDF of the secret bytes, "refresh-token-successor-key")', () => {
    const token = newRefreshToken();
    const tokens = new RefreshTokens({ current: secretKey(NEW) });
    expect(tokens.successorOf(token)).toBe(successorOf(token, deriveKey(secretKey(NEW), 'refresh-token-successor-key')));
    expect(tokens.successorsOf(token)).toEqual([tokens.successorOf(token)]);
  });

  it('gives the successor under the current secret, then the one under AUTH_SECRET_PREVIOUS', () => {
    const token = newRefreshToken();
    const before = new RefreshTokens({ current: secretKey(OLD) });
    const during = new RefreshTokens({ current: secretKey(NEW), previous: secretKey(OLD) });
    expect(during.successorOf(token)).toBe(new RefreshTokens({ current: secretKey(NEW) }).successorOf(token));
    expect(during.successorsOf(token)).toEqual([during.successorOf(token), before.successorOf(token)]);
  });
});
