import { Writable } from 'node:stream';
import type { AppConfig } from '../config/configuration';
import { accessLineWriter, createRootLogger, LineBatches } from './logging';

/** The lines a logger writes, as written. */
function capture(logLevel: string) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const logger = createRootLogger({ app: { logLevel, env: 'test' } } as AppConfig, destination);
  return { logger, lines };
}

/** The same fields as an object (pino's way) and as serialised pairs (the writer's way). */
const fields = [
  { reqId: 'a1b2', method: 'GET', route: '/auth/me', path: '/auth/me', status: 200, ms: 1.3, ip: '127.0.0.1' },
  { reqId: 'c3', method: 'DELETE', route: null, path: '/"quoted"\\back\u2028\u0001\ud800é…', status: 404, ms: 0, ip: '::ffff:10.0.0.1' },
  { reqId: 'd4', method: 'POST', route: '/auth/sessions/:id', path: '/auth/sessions/x', status: 503, ms: 12345.6, ip: '2001:db8::1' },
];
const pairs = (f: (typeof fields)[number]) =>
  `,"reqId":${JSON.stringify(f.reqId)},"method":${JSON.stringify(f.method)},"route":${f.route === null ? 'null' : JSON.stringify(f.route)},"path":${JSON.stringify(f.path)},"status":${f.status},"ms":${f.ms},"ip":${JSON.stringify(f.ip)}`;
const level = (status: number) => (status >= 500 ? 'error' : 'info');
const withoutTime = (line: string) => line.replace(/,"time":\d+,/, ',"time":0,');

describe('accessLineWriter', () => {
  it('writes, byte for byte but the time, the line pino writes for the same fields, at info or error', () => {
    const byPino = capture('info');
    const byWriter = capture('info');
    const write = accessLineWriter(byWriter.logger);
    for (const f of fields) {
      byPino.logger[level(f.status)](f, 'request completed');
      write(level(f.status), pairs(f));
    }
    expect(byWriter.lines.map(withoutTime)).toEqual(byPino.lines.map(withoutTime));
    expect(byWriter.lines.map((line) => JSON.parse(line) as unknown)).toEqual(fields.map((f) => expect.objectContaining(f)));
  });

  it("honours the logger's level: at LOG_LEVEL=warn only the 5xx lines", () => {
    const { logger, lines } = capture('warn');
    const write = accessLineWriter(logger);
    for (const f of fields) write(level(f.status), pairs(f));
    expect(lines.map((line) => (JSON.parse(line) as { status: number }).status)).toEqual([503]);
  });
});

describe('LineBatches (stdout in production)', () => {
  afterEach(() => jest.useRealTimers());

  const batches = (batchLength: number) => {
    const written: string[] = [];
    let flushedSync = 0;
    const exitListeners = process.listeners('exit');
    const lines = new LineBatches({ write: (chunk) => written.push(chunk), flushSync: () => flushedSync++ }, batchLength, 250);
    const onExit = process.listeners('exit').find((l) => !exitListeners.includes(l))!;
    process.off('exit', onExit);
    return { lines, written, onExit: () => onExit(0), flushedSync: () => flushedSync };
  };

  it('writes the lines in order, in one write once a batch is full', () => {
    const { lines, written } = batches(10);
    lines.write('one\n');
    lines.write('two\n');
    expect(written).toEqual([]);
    lines.write('three\n');
    expect(written).toEqual(['one\ntwo\nthree\n']);
  });

  it('writes a warning, an error or a fatal line at once, with the lines before it; an info line waits', () => {
    const { lines, written } = batches(1024);
    lines.write('{"level":30,"msg":"request completed"}\n');
    expect(written).toEqual([]);
    lines.write('{"level":50,"msg":"DATA_DIR\'s disk is full"}\n');
    expect(written).toEqual(['{"level":30,"msg":"request completed"}\n{"level":50,"msg":"DATA_DIR\'s disk is full"}\n']);
    lines.write('{"level":40,"msg":"a warning"}\n');
    expect(written).toHaveLength(2);
  });

  it('writes what it holds every 250 ms, and at exit, synchronously, before flushing its destination', () => {
    jest.useFakeTimers();
    const { lines, written, onExit, flushedSync } = batches(1024);
    lines.write('a\n');
    jest.advanceTimersByTime(249);
    expect(written).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(written).toEqual(['a\n']);
    lines.write('fatal\n');
    onExit();
    expect(written).toEqual(['a\n', 'fatal\n']);
    expect(flushedSync()).toBe(1);
  });
});
