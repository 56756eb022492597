import { MetricsService, sharedRead, WATCH_READ_TIMEOUT_MS } from './metrics.service';

describe('MetricsService.watch: gauges read when scraped', () => {
  afterEach(() => jest.useRealTimers());

  it('shows what the read yields, by label', async () => {
    const metrics = new MetricsService();
    metrics.watch('x_rows', 'rows', () => Promise.resolve({ pending: 2, failed: 1 }), 'status');
    metrics.watch('x_age_seconds', 'age', () => Promise.resolve({ '': 7 }));
    const text = await metrics.registry.metrics();
    expect(text).toContain('x_rows{status="pending"} 2');
    expect(text).toContain('x_rows{status="failed"} 1');
    expect(text).toMatch(/^x_age_seconds 7$/m);
  });

  it('shows no value when the read fails or does not answer in time (NaN; no series with labels), and serves the rest', async () => {
    jest.useFakeTimers();
    const metrics = new MetricsService();
    metrics.watch('x_failing', 'fails', () => Promise.reject(new Error('database down')));
    metrics.watch('x_stalled', 'never answers', () => new Promise(() => undefined));
    metrics.watch('x_fine', 'answers', () => Promise.resolve({ '': 1 }));
    metrics.watch('x_labelled', 'fails', () => Promise.reject(new Error('database down')), 'status');
    const scrape = metrics.registry.metrics();
    await jest.advanceTimersByTimeAsync(WATCH_READ_TIMEOUT_MS);
    const text = await scrape;
    expect(text).toMatch(/^x_fine 1$/m);
    // prom-client writes NaN as `Nan`; Prometheus reads any case.
    expect(text).toMatch(/^x_failing nan$/im);
    expect(text).toMatch(/^x_stalled nan$/im);
    expect(text).not.toMatch(/^x_labelled/m);
  });
});

describe('sharedRead', () => {
  it('reads once for the gauges of one scrape, and not again while a read is unanswered', async () => {
    let calls = 0;
    let answer!: (value: number) => void;
    const read = sharedRead(() => {
      calls++;
      return new Promise<number>((resolve) => (answer = resolve));
    }, 0);
    const first = read();
    expect(read()).toBe(first);
    expect(calls).toBe(1);
    answer(5);
    await expect(first).resolves.toBe(5);
    // Answered, and older than its lifetime (0 here): the next scrape reads again.
    await new Promise((resolve) => setTimeout(resolve, 1));
    void read();
    expect(calls).toBe(2);
  });
});
