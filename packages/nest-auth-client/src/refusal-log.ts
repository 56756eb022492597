/** How often one reason is said again while tokens keep being refused for it. */
export const REPEAT_EVERY_MS = 10 * 60_000;
/** Reasons remembered at once; past it the oldest is forgotten (and may be said again). */
const MAX_REASONS = 100;

/**
 * Says why tokens are refused when the cause may be this service's settings (the issuer
 * or audience it expects, the auth server it takes keys from), which a bare 401 hides.
 * Once per reason, then again at most every REPEAT_EVERY_MS with how many were refused
 * for it meanwhile: a flood of such tokens costs one line per reason per interval, never
 * one per request. The reasons are few by construction (an issuer or audience is read
 * only from a token whose signature verified; an unknown key is one reason whatever its
 * kid) and the memory of them is bounded anyway.
 */
export class RefusalLog {
  private readonly said = new Map<string, { at: number; since: number }>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  refused(reason: string): void {
    const now = this.now();
    const last = this.said.get(reason);
    if (last && now - last.at < REPEAT_EVERY_MS) {
      last.since++;
      return;
    }
    if (!last && this.said.size >= MAX_REASONS) this.said.delete(this.said.keys().next().value!);
    this.said.set(reason, { at: now, since: 0 });
    this.write(last?.since ? `${reason} (${last.since} more refused for this since it was last said)` : reason);
  }
}
