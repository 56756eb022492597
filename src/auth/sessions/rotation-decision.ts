/**
 * What to do with a refresh token that did not rotate: the rotation UPDATE matched no
 * live session holding it as its current token. One table, decided here and nowhere else.
 *
 * | the presented token is…                                   | answer  |
 * |-----------------------------------------------------------|---------|
 * | unknown                                                   | invalid |
 * | the current token of a session that ended / user disabled | ended   |
 * | the current token of a session past an expiry             | expired |
 * | rotated away, its session ended or the user disabled      | ended   |
 * | rotated away, its session past an expiry                  | expired |
 * | the one just rotated away, within the grace window        | grace   |
 * | anything else rotated away (late, or ≥ 2 generations old) | reuse   |
 */
export type RotationDecision = 'invalid' | 'ended' | 'expired' | 'grace' | 'reuse';

/** What the database says about the presented token's session, read after the UPDATE missed. */
export interface PresentedTokenFacts {
  /** How the token was found: as a session's current token, among the rotated ones, or not at all. */
  found: 'current' | 'rotated' | 'none';
  /** The session ended (any reason) or its user is disabled. */
  ended: boolean;
  /** The session is past its idle or absolute expiry. */
  expired: boolean;
  /** The generation the presented token had (rotated tokens only). */
  presentedGeneration?: number;
  /** The session's generation now. */
  currentGeneration?: number;
  /** Milliseconds since the session's last rotation (null: never rotated). */
  sinceRotationMs?: number | null;
  /** The session's current token is the presented token's successor (so the grace answer is consistent). */
  successorIsCurrent?: boolean;
}

export function decideRotation(facts: PresentedTokenFacts, graceMs: number): RotationDecision {
  if (facts.found === 'none') return 'invalid';
  if (facts.ended) return 'ended';
  if (facts.expired) return 'expired';
  // A live session whose current token this is would have rotated; only a race with an
  // ending or an expiry gets here, and the next attempt answers one of the above.
  if (facts.found === 'current') return 'invalid';
  const justRotated = facts.presentedGeneration === (facts.currentGeneration ?? 0) - 1;
  const withinGrace = facts.sinceRotationMs != null && facts.sinceRotationMs <= graceMs;
  return justRotated && withinGrace && facts.successorIsCurrent ? 'grace' : 'reuse';
}
