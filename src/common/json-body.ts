import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

/** Deeper JSON is refused before validation walks it (recursively: a stack overflow, a 500). */
export const MAX_JSON_DEPTH = 32;

/** What a 415 says: the one thing the client can do about it. */
export const SEND_JSON = 'Unsupported media type: send the body as application/json';
export const NOT_AN_OBJECT = 'the body must be a JSON object';

/**
 * The only body parser: `application/json` in UTF-8, parsed safely (`__proto__` and
 * `constructor.prototype` keys are refused), at most `maxDepth` levels deep, and an
 * object: every route reads named fields, so `[]`, `"x"`, `42` or `null` is a 400 saying
 * so rather than a list of missing fields. No form or text parser: a cross-site HTML
 * form or `text/plain` fetch, which a browser sends without a CORS preflight, gets 415
 * instead of reaching a route. Bytes that are not UTF-8 are a 400, not silently U+FFFD:
 * otherwise `pass\xFEword` and `pass\xFFword` would be one password.
 *
 * Zero bytes are no body, as if the header had not been sent (Fastify's own parser says
 * 400 "empty"): many HTTP clients send `Content-Type: application/json` on every POST, a
 * bodiless logout included. So a route that reads no body answers as usual, and one that
 * needs a body says which fields are missing, as it does for a request without any body;
 * no route has to be listed for it.
 */
export function acceptJsonOnly(fastify: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if ((body as Buffer).length === 0) {
      done(null, undefined);
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new UnsupportedMediaTypeException(`${SEND_JSON} in UTF-8`), undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new BadRequestException('JSON body is not valid UTF-8'), undefined);
      return;
    }
    void parseJson(request, text, (error, value) => {
      if (error) done(error, undefined);
      else if (typeof value !== 'object' || value === null || Array.isArray(value)) done(new BadRequestException(NOT_AN_OBJECT), undefined);
      else if (depthExceeds(value, maxDepth)) done(new BadRequestException('JSON body is nested too deeply'), undefined);
      else done(null, value);
    });
  });
}

/** Whether `value` nests objects/arrays deeper than `max` (iterative: no recursion to overflow). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * `application/x-www-form-urlencoded` (UTF-8) on the listed routes only (their Fastify
 * route url), for the protocols that define their requests as forms (RFC 7662
 * introspection, RFC 7009 revocation); every other route answers such a body 415 as before. A field sent
 * twice becomes a list, which the route's validation refuses.
 */
export function acceptFormOn(fastify: FastifyInstance, routes: string[]): void {
  const allowed = new Set(routes);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    if (!allowed.has(request.routeOptions.url ?? '')) {
      done(new UnsupportedMediaTypeException(SEND_JSON), undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new BadRequestException('Form body is not valid UTF-8'), undefined);
      return;
    }
    const fields = Object.create(null) as Record<string, string | string[]>;
    for (const [name, value] of new URLSearchParams(text)) {
      const seen = fields[name];
      fields[name] = seen === undefined ? value : ([] as string[]).concat(seen, value);
    }
    done(null, { ...fields });
  });
}
