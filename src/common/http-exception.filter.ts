import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, NotFoundException, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { SEND_JSON } from './json-body';

/** The body of every error response: NestJS's shape. */
export interface ErrorBody {
  statusCode: number;
  message: string | string[];
  error: string;
}

export const INTERNAL_ERROR: ErrorBody = { statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' };
export const DATABASE_UNAVAILABLE: ErrorBody = { statusCode: 503, message: 'Database unavailable', error: 'Service Unavailable' };
export const DATABASE_DISK_FULL: ErrorBody = { statusCode: 503, message: 'the database cannot write: disk full', error: 'Service Unavailable' };

/**
 * SQLSTATE disk_full: PostgreSQL's answer to ENOSPC, from a server (its statement fails; a
 * WAL write that fails is a PANIC, and the server's restart then drops our connections,
 * 57P02 or 08xxx below) or from PGlite (see DiskGuard, which also refuses writes with it).
 */
export const DISK_FULL_SQLSTATE = '53100';

/** Prisma error codes that mean "no usable connection", not "this query is wrong". */
const UNAVAILABLE_PRISMA_CODES = new Set([
  'P1001', // can't reach the database server
  'P1002', // the server was reached but timed out
  'P1008', // operations timed out
  'P1017', // the server closed the connection
  'P2024', // timed out fetching a connection from the pool
  'P2037', // too many database connections opened
]);
/** Driver adapter error kinds (@prisma/driver-adapter-utils) of the same meaning. */
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** Socket errors of node / pg. */
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);
/** PostgreSQL SQLSTATEs: class 08 (connection exception), shutdown, not accepting connections, too many. */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P01|57P02|57P03|53300)$/;
/** A PANIC: the server restarts (PostgreSQL), or the embedded database stopped for good (PGlite: see DiskGuard). */
const UNAVAILABLE_SEVERITY = 'PANIC';
/** Errors pg, its pool and PGlite throw without a code. */
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /Cannot use a pool after calling end on the pool/i,
  /Client has encountered a connection error and is not queryable/i,
  /timeout exceeded when trying to connect/i,
  // pg's query_timeout (QUERY_TIMEOUT_MS): the connection went silent.
  /Query read timeout/i,
  /PGlite is closed/i,
  // P2028 is also "transaction already closed" (a bug); only its start timeout means no connection.
  /Unable to start a transaction in the given time/i,
];

/**
 * The 503 to answer when `error` means the database cannot be used right now: its disk
 * is full (DATABASE_DISK_FULL: writes fail, reads may not), or it is unreachable
 * (DATABASE_UNAVAILABLE: connection lost, pool exhausted or closed); undefined for a bug
 * or a bad query. Looks through the wrappers Prisma and its driver adapters put around
 * the driver's error (`cause`, `meta.driverAdapterError`). The one place that decides it:
 * the exception filter answers with it and anything else may reuse it.
 */
export function databaseUnavailability(error: unknown): ErrorBody | undefined {
  const seen = new Set<object>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 16) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const { name, code, kind, originalCode, severity, message, cause, meta } = e as Record<string, unknown>;
    if (code === DISK_FULL_SQLSTATE || originalCode === DISK_FULL_SQLSTATE) return DATABASE_DISK_FULL;
    if (name === 'PrismaClientInitializationError') return DATABASE_UNAVAILABLE;
    for (const c of [code, originalCode]) {
      if (typeof c !== 'string') continue;
      if (UNAVAILABLE_PRISMA_CODES.has(c) || UNAVAILABLE_SOCKET_CODES.has(c) || UNAVAILABLE_SQLSTATE.test(c)) return DATABASE_UNAVAILABLE;
    }
    if (typeof kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(kind)) return DATABASE_UNAVAILABLE;
    if (severity === UNAVAILABLE_SEVERITY) return DATABASE_UNAVAILABLE;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return DATABASE_UNAVAILABLE;
    queue.push(cause, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  return undefined;
}

/** Whether the database cannot be used right now (see `databaseUnavailability`). */
export const isDatabaseUnavailable = (error: unknown): boolean => databaseUnavailability(error) !== undefined;

/** Client errors of Fastify itself (body parsing, URL), with messages that echo nothing of the request. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: SEND_JSON,
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Request body is empty',
  FST_ERR_CTP_INVALID_JSON_BODY: 'Request body is not valid JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
  FST_ERR_BAD_URL: 'Malformed URL',
  FST_ERR_MAX_PARAM_LENGTH: 'Path parameter is too long',
};

const statusText = (status: number) => STATUS_CODES[status] ?? 'Error';

/**
 * The methods a route may be offered for in `Allow`. Not OPTIONS: the CORS plugin's
 * `OPTIONS *` route matches every path, and it answers preflights of listed origins only.
 */
const ROUTABLE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The methods the router serves at the path of `url` (HEAD with every GET, as Fastify
 * does), matched the way the router matches requests (parameters, wildcards, trailing
 * slash): a wrong method on an existing path is then a 405 with them in `Allow`, and only
 * an unknown path is a 404.
 */
export function allowedMethods(fastify: Pick<FastifyInstance, 'findRoute'>, url: string): string[] {
  return ROUTABLE_METHODS.filter((method) => fastify.findRoute({ method, url }) !== null);
}

/**
 * 405 for a request that reached the not-found handler (no route for its method and
 * path) although its path has routes for other methods; undefined otherwise. The message
 * echoes nothing of the request but its method, unlike "Cannot GET /path?query".
 */
function methodNotAllowed(exception: unknown, request: FastifyRequest | undefined, fastify: unknown): { body: ErrorBody; allow: string } | undefined {
  if (!(exception instanceof NotFoundException) || request?.is404 !== true) return undefined;
  if (typeof (fastify as Partial<FastifyInstance> | undefined)?.findRoute !== 'function') return undefined;
  const allowed = allowedMethods(fastify as FastifyInstance, request.url);
  if (allowed.length === 0 || allowed.includes(request.method)) return undefined;
  const allow = allowed.join(', ');
  const status = HttpStatus.METHOD_NOT_ALLOWED;
  return {
    body: { statusCode: status, message: `Method ${request.method} is not allowed on this path; it accepts ${allow}`, error: statusText(status) },
    allow,
  };
}

/**
 * The last word on every error (registered with `useGlobalFilters`, so it also sees
 * Fastify's own errors: body parsing, bad URLs, hooks).
 * - HttpException: its response; a bare string message gets the `{statusCode, message,
 *   error}` shape; the router's 404 for a path that exists with other methods becomes a
 *   405 with `Allow` (see `methodNotAllowed`);
 * - Fastify client errors (4xx): the same shape with a fixed message per error code;
 * - database unusable (see `databaseUnavailability`): 503 `Database unavailable`, or
 *   `the database cannot write: disk full`;
 * - anything else: a generic 500. Logged with its name, code and stack frames only:
 *   messages can hold data (Prisma's echo the query's arguments, a password included).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionsHandler');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    const wrongMethod = methodNotAllowed(exception, host.switchToHttp().getRequest<FastifyRequest | undefined>(), httpAdapter.getInstance());
    const { status, body } = wrongMethod ? { status: wrongMethod.body.statusCode, body: wrongMethod.body } : this.toResponse(exception);
    if (httpAdapter.isHeadersSent(response)) {
      httpAdapter.end(response);
      return;
    }
    if (wrongMethod) httpAdapter.setHeader(response, 'allow', wrongMethod.allow);
    // An exception that knows when to come back (a shed or throttled request) says so.
    const retryAfter = (exception as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
    if (typeof retryAfter === 'number') httpAdapter.setHeader(response, 'retry-after', String(retryAfter));
    // One that carries its own challenge (RFC 9470's insufficient_user_authentication) sets it.
    const challenge = (exception as { wwwAuthenticate?: unknown } | null)?.wwwAuthenticate;
    if (typeof challenge === 'string') httpAdapter.setHeader(response, 'www-authenticate', challenge);
    httpAdapter.reply(response, body, status);
  }

  private toResponse(exception: unknown): { status: number; body: unknown } {
    if (exception instanceof HttpException) {
      // Fastify's own client errors (body parsing) arrive wrapped by Nest's adapter: they
      // get their fixed message too, not Fastify's (which may quote the request).
      const fastifyError = isFastifyError(exception.cause) ? clientErrorBody(exception.cause) : null;
      if (fastifyError) return { status: fastifyError.statusCode, body: fastifyError };
      const status = exception.getStatus();
      const response = exception.getResponse();
      return {
        status,
        body: typeof response === 'string' ? { statusCode: status, message: response, error: statusText(status) } : response,
      };
    }
    const unavailable = databaseUnavailability(exception);
    if (unavailable) {
      this.logger.warn({ err: describeError(exception) }, unavailable.message as string);
      return { status: HttpStatus.SERVICE_UNAVAILABLE, body: unavailable };
    }
    const clientError = clientErrorBody(exception);
    if (clientError) return { status: clientError.statusCode, body: clientError };
    this.logger.error({ err: describeError(exception) }, 'Unhandled error');
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: INTERNAL_ERROR };
  }
}

const isFastifyError = (error: unknown): boolean => error instanceof Error && error.name === 'FastifyError';

/**
 * The body for a client error (4xx `statusCode`) that is not an HttpException: Fastify's
 * own (body parsing, URL, routing), with a fixed message per code; null for anything else.
 */
export function clientErrorBody(error: unknown): ErrorBody | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return null;
  const code = (error as { code?: unknown }).code;
  const message = (typeof code === 'string' && FASTIFY_MESSAGES[code]) || statusText(status);
  return { statusCode: status, message, error: statusText(status) };
}

/** What may be logged of an error: its class, its code and where it was thrown, never its message. */
export function describeError(error: unknown): { type: string; code?: string; stack: string[] } {
  if (typeof error !== 'object' || error === null) return { type: typeof error, stack: [] };
  const e = error as { name?: unknown; constructor?: { name?: string }; code?: unknown; message?: unknown; stack?: unknown };
  const type = typeof e.name === 'string' ? e.name : (e.constructor?.name ?? 'Object');
  // The stack starts with "<name>: <message>", the message possibly on several lines: skip them all.
  const messageLines = typeof e.message === 'string' ? e.message.split('\n').length : 1;
  const stack =
    typeof e.stack === 'string'
      ? e.stack
          .split('\n')
          .slice(messageLines)
          .filter((line) => /^\s+at /.test(line))
          .slice(0, 15)
          .map((l) => l.trim())
      : [];
  return { type, ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: String(e.code) } : {}), stack };
}
