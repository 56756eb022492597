import type { PresentedTokenFacts } from './rotation-decision';

/**
 * Shared by the specs beside it (rotation-decision.spec.ts, session-rotation.service.spec.ts);
 * not built (tsconfig.build.json leaves out `*.fixture.ts`).
 *
 * The token rotated away 1 s ago by the last rotation: the concurrent-refresh case. Its
 * successor is the session's current token (SessionRotationService finds that out itself
 * and overrides `successorIsCurrent`).
 */
export const justRotated: PresentedTokenFacts = {
  found: 'rotated',
  ended: false,
  expired: false,
  presentedGeneration: 4,
  currentGeneration: 5,
  sinceRotationMs: 1_000,
  successorIsCurrent: true,
};
