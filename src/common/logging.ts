import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/configuration';

/**
 * Structured JSON logs. What a request log holds is chosen field by field (method,
 * path without the query string, status, timing, user agent): headers are not logged,
 * so `Authorization` and cookies never reach a log line; bodies are never logged. The
 * redaction paths are a second line of defence for anything logged by hand.
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

export function loggerOptions(config: AppConfig, destination?: NodeJS.WritableStream): Params {
  return {
    pinoHttp: [
      {
        level: config.app.logLevel,
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        // No default request/response serialisation: it would include every header.
        serializers: {
          req: (req: IncomingMessage & { id?: unknown }) => ({
            id: req.id,
            method: req.method,
            path: req.url?.split('?')[0],
            userAgent: req.headers?.['user-agent'],
          }),
          res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      },
      ...(destination ? [destination] : []),
    ] as Params['pinoHttp'],
  };
}
