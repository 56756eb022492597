import { nextAttemptDelay } from './retry-schedule';

describe('nextAttemptDelay', () => {
  const schedule = [0, 5_000, 300_000];

  it('follows the schedule, attempt by attempt, then stops', () => {
    const middle = () => 0.5; // no jitter
    expect(nextAttemptDelay(schedule, 1, middle)).toBe(5_000);
    expect(nextAttemptDelay(schedule, 2, middle)).toBe(300_000);
    expect(nextAttemptDelay(schedule, 3, middle)).toBeUndefined();
  });

  it('jitters each delay by at most 10 %, both ways', () => {
    expect(nextAttemptDelay(schedule, 1, () => 0)).toBe(4_500);
    expect(nextAttemptDelay(schedule, 1, () => 1)).toBe(5_500);
    expect(nextAttemptDelay(schedule, 0, () => 0)).toBe(0);
  });
});
