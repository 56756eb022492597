import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's options for every response of the API. Swagger UI at /docs ships inline
 * scripts and styles, hence 'unsafe-inline' there; nothing of an API (Swagger UI
 * included) is meant to be framed.
 */
export const API_HELMET: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
};

/**
 * The headers helmet sets for `options`, computed once. helmet decides them from its
 * options alone (no nonce is used here), so they are the same on every response, while
 * @fastify/helmet builds the whole helmet middleware again on every request (it parsed
 * the CSP directives anew each time: ~9 % of a trivial request's CPU in the profile).
 * helmet stays the one source of the values; only the work moves to start-up.
 */
export function helmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet(options)({} as never, response as never, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error('helmet failed', { cause: error });
  });
  return Object.freeze(headers);
}

/**
 * Every response carries the security headers and `Cache-Control: no-store` (API.md: no
 * response of an auth server belongs in a cache), set first thing so that errors carry
 * them too; `no-store` also on sending, for the replies that hooks end before this one
 * runs (CORS preflights). A route may set its own Cache-Control (the JWKS does).
 */
export function secureEveryResponse(fastify: FastifyInstance, headers: Readonly<Record<string, string>> = helmetHeaders(API_HELMET)): void {
  const first = { ...headers, 'cache-control': 'no-store' };
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(first);
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
