import { RefusalLog, REPEAT_EVERY_MS } from './refusal-log';

describe('RefusalLog', () => {
  it('says a reason once, then again after the interval with how many were refused meanwhile', () => {
    const lines: string[] = [];
    let now = 0;
    const log = new RefusalLog(
      (line) => lines.push(line),
      () => now,
    );
    for (let i = 0; i < 1000; i++) log.refused('issuer');
    log.refused('audience');
    expect(lines).toEqual(['issuer', 'audience']);
    now += REPEAT_EVERY_MS - 1;
    log.refused('issuer');
    expect(lines).toHaveLength(2);
    now += 1;
    log.refused('issuer');
    log.refused('issuer');
    expect(lines).toEqual(['issuer', 'audience', 'issuer (1000 more refused for this since it was last said)']);
    now += REPEAT_EVERY_MS;
    log.refused('issuer');
    expect(lines.at(-1)).toBe('issuer (1 more refused for this since it was last said)');
  });
});
