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
 * JSON lines on stdout, written in batches: at 4 KB or every 250 ms, whichever comes
 * first, and synchronously at exit (pino flushes its destinations then, a fatal line
 * included). One write per request was a system call per request, a fifth of what a
 * trivial request cost; batched, the access log costs next to nothing under load and a
 * quiet server's lines still appear within 250 ms. What a SIGKILL can lose is that last
 * quarter of a second of lines, never an event (those are rows in the database).
 */
function batchedStdout(): pino.DestinationStream {
  return pino.destination({ dest: process.stdout.fd ?? 1, sync: false, minLength: 4096, periodicFlush: 250 });
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
  // The line is built field by field from values that cannot hold a secret, so the
  // redaction paths have nothing to find in it: this logger skips them (redaction cost
  // ~12 µs a line, a sixth of a trivial request's CPU; the line itself ~2 µs).
  const accessLog = logger.child({}, { redact: [] });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    // The route pattern, never the path: a label must be one of a closed set.
    observe?.(request.method, request.routeOptions.url ?? 'unmatched', status, reply.elapsedTime / 1000);
    const path = request.url.split('?', 1)[0];
    const line = {
      reqId: request.id,
      method: request.method,
      route: request.routeOptions.url ?? null,
      path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ip: request.ip,
    };
    if (status >= 500) accessLog.error(line, 'request completed');
    else accessLog.info(line, 'request completed');
    done();
  });
}
