import type { RevocationEvent } from './revocation-state';

/**
 * The events of the window as a list, for the revocation feed's replay (RevocationState
 * keeps only what a check needs). One entry per event, however often it is heard (applied
 * here, then heard back on NOTIFY, then reloaded after a reconnect): `add` says whether it
 * was new, so each event is forwarded to the feed once. Bounded like the state: an event
 * is forgotten `windowMs` after its `at`.
 */
export class RecentRevocations {
  private readonly events = new Map<string, RevocationEvent>();

  constructor(private readonly windowMs: number) {}

  /** False when this event was already known (same row id, or the same facts at the same time). */
  add(event: RevocationEvent): boolean {
    const key = event.id ?? `${event.kind}:${JSON.stringify(event)}`;
    if (this.events.has(key)) return false;
    this.events.set(key, event);
    return true;
  }

  /** Every event still in the window, in the order they were heard. */
  list(now = Date.now()): RevocationEvent[] {
    this.prune(now);
    return [...this.events.values()];
  }

  prune(now: number): void {
    for (const [key, event] of this.events) if (event.at + this.windowMs <= now) this.events.delete(key);
  }

  get size(): number {
    return this.events.size;
  }
}
