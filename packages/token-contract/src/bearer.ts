/**
 * `Authorization: Bearer <JWS compact>` (RFC 6750 §2.1: `"Bearer" 1*SP b64token`; the
 * scheme is case-insensitive, RFC 7235 §2.1), and nothing else on the line: no second
 * token, no trailing text, no tab. Three non-empty base64url segments.
 */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/** Far above a real token (~500 characters with ES256, ~700 with RS256); refused before anything is decoded. */
export const MAX_TOKEN_LENGTH = 4096;

/** A request as Fastify (`raw.rawHeaders`) and Express (`rawHeaders`) present it. */
export interface BearerRequest {
  headers: Record<string, unknown>;
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[] };
}

/**
 * The access token of a request, or null. Only the Authorization header is read (never a
 * query string, body or cookie: RFC 6750's other two ways leak tokens into logs and
 * caches), and only when it is sent once: with two, a proxy and the service could
 * disagree on which one counts. What the token holds is the verifier's business.
 */
export function bearerTokenOf(request: BearerRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH) return null;
  const rawHeaders = request.raw?.rawHeaders ?? request.rawHeaders;
  if (rawHeaders) {
    let count = 0;
    for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'authorization') count++;
    if (count !== 1) return null;
  }
  return BEARER.exec(header)?.[1] ?? null;
}
