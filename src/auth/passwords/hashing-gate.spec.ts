import { HashingBusyException, HashingGate, type HashingLane } from './hashing-gate';

/** Work that finishes only when the test says so. */
function controllable() {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const work = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      finishers.set(name, () => resolve(name));
    });
  const finish = async (name: string) => {
    finishers.get(name)!();
    // Let the gate hand the slot over and the next work start.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { started, work, finish };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('HashingGate', () => {
  it('runs at most `slots` computations at once, new hashes on at most half of them', async () => {
    const gate = new HashingGate({ slots: 2, queuePerSlot: 4 });
    const { started, work, finish } = controllable();
    const run = (lane: HashingLane, name: string) => gate.run(lane, work(name));
    const results = [run('hash', 'h1'), run('hash', 'h2'), run('verify', 'v1'), run('verify', 'v2')];
    await settle();
    // One hash (half of two slots) and one verification run; h2 and v2 wait.
    expect(started).toEqual(['h1', 'v1']);
    await finish('h1');
    // A freed slot goes to the waiting verification first.
    expect(started).toEqual(['h1', 'v1', 'v2']);
    await finish('v1');
    expect(started).toEqual(['h1', 'v1', 'v2', 'h2']);
    await finish('v2');
    await finish('h2');
    await expect(Promise.all(results)).resolves.toEqual(['h1', 'h2', 'v1', 'v2']);
  });

  it('sheds work with 503 and Retry-After once a lane’s queue is full, and keeps the other lane open', async () => {
    const gate = new HashingGate({ slots: 2, queuePerSlot: 1 });
    const { started, work, finish } = controllable();
    const hashes = ['h1', 'h2', 'h3'].map((name) => gate.run('hash', work(name)).catch((e: unknown) => e));
    const shed = gate.run('hash', work('h4'));
    await expect(shed).rejects.toBeInstanceOf(HashingBusyException);
    await expect(shed).rejects.toMatchObject({ status: 503, retryAfterSeconds: 1 });
    // Logins still get a slot at once.
    const login = gate.run('verify', work('v1'));
    await settle();
    expect(started).toEqual(['h1', 'v1']);
    for (const name of ['v1', 'h1', 'h2', 'h3']) await finish(name);
    await expect(login).resolves.toBe('v1');
    await expect(Promise.all(hashes)).resolves.toEqual(['h1', 'h2', 'h3']);
  });

  it('sheds once the expected wait (queue × measured cost ÷ slots) passes maxWaitMs', async () => {
    let clock = 0;
    const gate = new HashingGate({ slots: 1, maxWaitMs: 50, minQueue: 0, now: () => clock });
    // One computation is measured at 30 ms: one waiting request (expected wait 30 ms) is
    // queued, a second one (60 ms) is shed.
    await gate.run('verify', async () => {
      clock += 30;
    });
    const { work, finish } = controllable();
    const running = gate.run('verify', work('v1'));
    await settle();
    const queued = gate.run('verify', work('v2'));
    await expect(gate.run('verify', work('v3'))).rejects.toBeInstanceOf(HashingBusyException);
    await finish('v1');
    await finish('v2');
    await expect(Promise.all([running, queued])).resolves.toEqual(['v1', 'v2']);
  });

  it('never sheds a short burst on the estimate: the first minQueue waiting requests are queued', async () => {
    let clock = 0;
    const gate = new HashingGate({ slots: 1, maxWaitMs: 50, minQueue: 3, now: () => clock });
    await gate.run('hash', async () => {
      clock += 1_000; // one computation is measured at a full second: far over the bound
    });
    const { work, finish } = controllable();
    const all = ['h1', 'h2', 'h3', 'h4'].map((name) => gate.run('hash', work(name)));
    await settle();
    await expect(gate.run('hash', work('h5'))).rejects.toBeInstanceOf(HashingBusyException);
    for (const name of ['h1', 'h2', 'h3', 'h4']) await finish(name);
    await expect(Promise.all(all)).resolves.toEqual(['h1', 'h2', 'h3', 'h4']);
  });

  it('frees the slot when the work fails', async () => {
    const gate = new HashingGate({ slots: 1, queuePerSlot: 1 });
    await expect(gate.run('verify', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run('verify', async () => 'next')).resolves.toBe('next');
  });
});
