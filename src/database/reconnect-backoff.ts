const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * When a lost LISTEN connection (the revocation listener's, the outbox worker's) is opened
 * again: 250 ms after the loss, then twice as long after each failed attempt, at most 10 s;
 * back to 250 ms once a connection is up (`reset`).
 */
export class ReconnectBackoff {
  private delay = RECONNECT_MIN_MS;

  reset(): void {
    this.delay = RECONNECT_MIN_MS;
  }

  /** Runs `reconnect` after the current delay (a timer that does not hold the process open). */
  schedule(reconnect: () => void): void {
    const delay = this.delay;
    this.delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    setTimeout(reconnect, delay).unref();
  }
}
