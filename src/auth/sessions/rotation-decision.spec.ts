import { decideRotation } from './rotation-decision';
import { justRotated } from './rotation.fixture';

const GRACE_MS = 30_000;

describe('decideRotation: a refresh token that did not rotate', () => {
  it('is invalid when nobody ever issued it', () => {
    expect(decideRotation({ found: 'none', ended: false, expired: false }, GRACE_MS)).toBe('invalid');
  });

  it('gets the same successor again when it is the one just rotated away, within the grace window', () => {
    expect(decideRotation(justRotated, GRACE_MS)).toBe('grace');
    expect(decideRotation({ ...justRotated, sinceRotationMs: GRACE_MS }, GRACE_MS)).toBe('grace');
  });

  it('is reuse once the grace window has passed', () => {
    expect(decideRotation({ ...justRotated, sinceRotationMs: GRACE_MS + 1 }, GRACE_MS)).toBe('reuse');
  });

  it('is reuse with the grace turned off (REFRESH_REUSE_GRACE=0), unless presented in the same millisecond', () => {
    expect(decideRotation({ ...justRotated, sinceRotationMs: 1 }, 0)).toBe('reuse');
  });

  it('is reuse when two or more generations old, even inside the grace window', () => {
    expect(decideRotation({ ...justRotated, presentedGeneration: 3 }, GRACE_MS)).toBe('reuse');
    expect(decideRotation({ ...justRotated, presentedGeneration: 0, currentGeneration: 7 }, GRACE_MS)).toBe('reuse');
  });

  it('is reuse when the session’s current token is not this token’s successor (a key change), never a second valid token', () => {
    expect(decideRotation({ ...justRotated, successorIsCurrent: false }, GRACE_MS)).toBe('reuse');
  });

  it('is reuse when the session never recorded a rotation time', () => {
    expect(decideRotation({ ...justRotated, sinceRotationMs: null }, GRACE_MS)).toBe('reuse');
  });

  it('says the session ended (not reuse) when it ended or its user was disabled, whichever token is presented', () => {
    expect(decideRotation({ ...justRotated, ended: true }, GRACE_MS)).toBe('ended');
    expect(decideRotation({ ...justRotated, ended: true, presentedGeneration: 0 }, GRACE_MS)).toBe('ended');
    expect(decideRotation({ found: 'current', ended: true, expired: false }, GRACE_MS)).toBe('ended');
  });

  it('says the session expired when it is past its idle or absolute expiry', () => {
    expect(decideRotation({ ...justRotated, expired: true }, GRACE_MS)).toBe('expired');
    expect(decideRotation({ found: 'current', ended: false, expired: true }, GRACE_MS)).toBe('expired');
  });

  it('ranks an end above an expiry: an ended session is "ended" even once it is also past its expiry', () => {
    expect(decideRotation({ ...justRotated, ended: true, expired: true }, GRACE_MS)).toBe('ended');
  });
});
