/** ±10 % of each delay: instances that failed together do not retry in lockstep. */
const JITTER = 0.1;

/**
 * When attempt `attempts + 1` is due, after `attempts` failed ones, by OUTBOX_RETRY_SCHEDULE
 * (`schedule[i]`: the delay before attempt i + 1; the first is normally 0, "at once").
 * Undefined when the schedule is spent: the delivery has failed.
 */
export function nextAttemptDelay(schedule: readonly number[], attempts: number, random: () => number = Math.random): number | undefined {
  if (attempts >= schedule.length) return undefined;
  const delay = schedule[attempts];
  return Math.max(0, Math.round(delay * (1 + JITTER * (2 * random() - 1))));
}
