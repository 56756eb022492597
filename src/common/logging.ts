import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import pino, { type Level, type Logger } from 'pino';
import type { AppConfig } from '../config/configuration';

/**
 * One pino logger for everything: Nest's own lines and our services' (`Logger` from
 * @nestjs/common, through NestPinoLogger) and one access-log line per request. JSON lines
 * on stdout, except in development on a terminal, where they are readable lines
 * (pino-pretty). The redaction paths are a second line of defence for anything logged by
 * hand; the first is that requests are logged field by field.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
  '*.refreshTokenHash',
  '*.tokenHash',
];

/** Longest path written to the access log (a 404 path is whatever a client sent). */
const MAX_LOGGED_PATH = 256;

/**
 * `destination`: where the lines go (tests pass a stream to read them); by default stdout,
 * as JSON, or as readable lines where `readableConsole` says so.
 */
export function createRootLogger(config: AppConfig, destination?: NodeJS.WritableStream): Logger {
  const options = { level: config.app.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (destination) return pino(options, destination);
  if (readableConsole(config.app.env, process.stdout.isTTY)) return pino(options, prettyStdout());
  return pino(options, batchedStdout());
}

/**
 * JSON lines on stdout, written in batches: at 16 KB or every 250 ms, whichever comes
 * first, at once for a warning or worse, and synchronously at exit (a fatal line included). One write per request was a
 * system call per request, a fifth of what a trivial request cost; batched, the access
 * log costs next to nothing under load and a quiet server's lines still appear within
 * 250 ms. What a SIGKILL can lose is that last quarter of a second of info lines (access
 * lines), never a warning or an error, nor an event (those are rows in the database).
 */
function batchedStdout(): pino.DestinationStream {
  // pino's destination (sonic-boom: asynchronous writes, EPIPE handled, flushed at exit)
  // writes each batch as it comes; the batching is LineBatches'.
  return new LineBatches(pino.destination({ dest: process.stdout.fd ?? 1, sync: false, minLength: 0, maxWrite: 64 * 1024 }));
}

/**
 * Lines gathered into one write of `out`: every line, pino's and the access log's, goes
 * through here in order. sonic-boom can batch by itself (minLength), but each of its
 * writes measures the whole pending batch again (Buffer.byteLength of a growing string):
 * 1–3 µs a line at 4 KB, more for larger batches; an array and a count cost ~0.1 µs.
 */
/** pino's line of a warning (40), an error (50) or a fatal (60): `level` is its first key. */
const URGENT = /^\{"level":[456]0,/;

export class LineBatches implements pino.DestinationStream {
  private lines: string[] = [];
  private length = 0;

  constructor(
    private readonly out: { write(chunk: string): unknown; flushSync(): void },
    private readonly batchLength = 16 * 1024,
    flushEveryMs = 250,
  ) {
    setInterval(() => this.flush(), flushEveryMs).unref();
    // Synchronously at exit: whatever is gathered, then whatever `out` still holds.
    process.on('exit', () => {
      try {
        this.flush();
        this.out.flushSync();
      } catch {
        // stdout is gone (closed, destroyed): nothing more can be written anywhere.
      }
    });
  }

  write(line: string): void {
    this.lines.push(line);
    this.length += line.length;
    // A warning or worse goes out at once, with what came before it: an operator (or a
    // supervisor about to kill the process) reads it now, not a quarter of a second later.
    if (this.length >= this.batchLength || URGENT.test(line)) this.flush();
  }

  private flush(): void {
    if (this.length === 0) return;
    const batch = this.lines.join('');
    this.lines = [];
    this.length = 0;
    this.out.write(batch);
  }
}

/**
 * Readable lines for a person at a terminal: in development, on a TTY. JSON everywhere
 * else: in production, in tests, and whenever stdout is a pipe or a file (a log
 * collector, `| jq`, `> file`), also in development.
 */
export function readableConsole(nodeEnv: string, stdoutIsTTY: boolean | undefined): boolean {
  return nodeEnv === 'development' && stdoutIsTTY === true;
}

function prettyStdout(): NodeJS.WritableStream {
  // Loaded only here: production never pays for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, in development only
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  // Synchronous, as pino's own stdout: the last line before an exit is never lost.
  return pretty({
    sync: true,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
    // An access-log line stays one line.
    singleLine: true,
  });
}

/** Nest's start-up chatter (modules loaded, routes mapped, "successfully started"): debug, not info. */
const NEST_STARTUP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);
/**
 * Errors Nest logs and then throws to whoever called it (createApp runs Nest with
 * `abortOnError: false`): a failed start-up (ExceptionHandler) or listen (NestApplication).
 * The caller reports them once, in its own words (main.ts): here they are debug.
 */
const RETHROWN_ERROR_CONTEXTS = new Set(['ExceptionHandler', 'NestApplication']);

/**
 * Nest's LoggerService over our pino logger: `Logger` from @nestjs/common (Nest's own and
 * our services') writes through it. Calls keep nestjs-pino's shape: the context (Nest
 * passes it last) becomes a `context` field; an object first is merged into the line
 * (`logger.warn({ err }, 'Database unavailable')`), an Error becomes `err`.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    // Nest's Logger passes the context last, and `undefined` before it for an error without a stack.
    const context = params.at(-1);
    let rest = params.slice(0, -1).filter((param) => param !== undefined);
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (message instanceof Error) {
      fields.err = message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
    } else if (level === 'error' && rest.length === 1 && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's exception handlers call error(message, stack).
      const err = new Error(String(message));
      err.stack = rest[0];
      fields.err = err;
      rest = [String(message)];
    } else {
      rest = [String(message), ...rest];
    }
    this.logger[quieter(level, context)](fields, ...(rest as [string, ...unknown[]]));
  }
}

function quieter(level: Level, context: unknown): Level {
  if (typeof context !== 'string') return level;
  if (level === 'info' && NEST_STARTUP_CONTEXTS.has(context)) return 'debug';
  if (level === 'error' && RETHROWN_ERROR_CONTEXTS.has(context)) return 'debug';
  return level;
}

/** Told of every answered request (the HTTP latency histogram of /metrics). */
export type RequestObserver = (method: string, route: string, status: number, seconds: number) => void;

/**
 * The access log: one line per request, answered or refused, at `info` (`error` for a
 * 5xx), written when the response is done. It holds the method, the route pattern and
 * the path without its query string (a query can carry a secret), the status, the time
 * taken, the request id and the client IP. Never a header (Authorization, cookies), a
 * query string or a body.
 */
export function logEveryRequest(fastify: FastifyInstance, logger: Logger, observe?: RequestObserver): void {
  const write = accessLineWriter(logger);
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url;
    // The route pattern, never the path: a label must be one of a closed set.
    observe?.(request.method, route ?? 'unmatched', status, reply.elapsedTime / 1000);
    const url = request.url;
    const query = url.indexOf('?');
    let path = query === -1 ? url : url.slice(0, query);
    if (path.length > MAX_LOGGED_PATH) path = `${path.slice(0, MAX_LOGGED_PATH)}…`;
    write(
      status >= 500 ? 'error' : 'info',
      `,"reqId":${JSON.stringify(request.id)},"method":${JSON.stringify(request.method)},"route":${route === undefined ? 'null' : JSON.stringify(route)},"path":${JSON.stringify(path)},"status":${status},"ms":${Math.round(reply.elapsedTime * 10) / 10},"ip":${JSON.stringify(request.ip)}`,
    );
    done();
  });
}

/** What `accessLineWriter` reads of a pino logger: its stream, clock, bindings and message key. */
interface PinoInternals {
  [pino.symbols.streamSym]: { write(line: string): unknown };
  [pino.symbols.timeSym]: () => string;
  [pino.symbols.chindingsSym]: string;
  [pino.symbols.messageKeySym]: string;
}

/**
 * Writes an access-log line exactly as `logger.info(fields, 'request completed')` would
 * (`createRootLogger`'s logger: its level numbers, timestamp, bindings, message key and
 * destination; it has no formatters, mixin or hooks that would change a line), from
 * fields already serialised: `,"key":value` pairs of values that cannot hold a secret,
 * so no redaction is needed. pino's own path costs ~2 µs a line (walking the object,
 * then redaction's machinery, ~12 µs, until that was skipped): as much as a
 * third of what the framework itself spends on a request. logging.spec.ts holds the two
 * to the same bytes.
 */
export function accessLineWriter(logger: Logger): (level: 'info' | 'error', fields: string) => void {
  const internals = logger as unknown as PinoInternals;
  const stream = internals[pino.symbols.streamSym];
  const time = internals[pino.symbols.timeSym];
  const bindings = internals[pino.symbols.chindingsSym];
  const message = `,${JSON.stringify(internals[pino.symbols.messageKeySym])}:"request completed"}\n`;
  const levels = { info: `{"level":${logger.levels.values.info}`, error: `{"level":${logger.levels.values.error}` };
  return (level, fields) => {
    if (logger.isLevelEnabled(level)) stream.write(`${levels[level]}${time()}${bindings}${fields}${message}`);
  };
}
