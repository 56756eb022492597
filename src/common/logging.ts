import type { FastifyInstance } from 'fastify';
import type { Params } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import type { AppConfig } from '../config/configuration';

/**
 * Structured JSON logs through one pino logger: Nest's own lines (via nestjs-pino) and
 * one access-log line per request. The redaction paths are a second line of defence for
 * anything logged by hand; the first is that requests are logged field by field.
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

export function createRootLogger(config: AppConfig, destination?: NodeJS.WritableStream): Logger {
  const options = { level: config.app.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * nestjs-pino serves Nest's Logger from our root logger. Its pino-http middleware logs
 * no requests (`autoLogging: false`): Nest 12 mounts middleware on Fastify through a
 * path pattern that matched almost no route, so the access log is `logEveryRequest`'s.
 */
export function nestLoggerParams(logger: Logger): Params {
  return { pinoHttp: { logger, autoLogging: false } };
}

/**
 * The access log: one line per request, answered or refused, at `info` (`error` for a
 * 5xx), written when the response is done. It holds the method, the route pattern and
 * the path without its query string (a query can carry a secret), the status, the time
 * taken, the request id and the client IP. Never a header (Authorization, cookies), a
 * query string or a body.
 */
export function logEveryRequest(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
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
    if (status >= 500) logger.error(line, 'request completed');
    else logger.info(line, 'request completed');
    done();
  });
}
