/** RFC 9068 explicit typing: the `typ` of our access tokens, and the only one accepted. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The algorithms of the auth server's signing keys; each key verifies with its own only. */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256'] as const;

export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/**
 * A kid is the RFC 7638 thumbprint of the public key (SHA-256, base64url): 43 characters.
 * Anything else names no key of the auth server's, and is refused before any lookup.
 */
export const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The one header the signer writes (RFC 9068's), in this order. */
export const HEADER_PARAMETERS = ['alg', 'typ', 'kid'] as const;

/**
 * The `alg` and `kid` of a JWS compact token with exactly the shape the auth server
 * issues, or null, before its signature is even checked: the header is `{ alg, typ:
 * "at+jwt", kid }` and nothing more, so `none`-style tricks, key-locating headers (`jwk`,
 * `jku`, `x5u`, `x5c`), `crit`, `b64`, `cty` (nested tokens) and other `typ`s (RFC 8725
 * §3.11, explicit typing) are refused without interpreting them; the kid has the form
 * of a thumbprint; the payload is a JSON object. Which algorithm a kid allows is the
 * verifier's business (its key's, pinned).
 */
export function accessTokenHeaderOf(token: string): { alg: string; kid: string } | null {
  const [rawHeader, rawPayload] = token.split('.');
  const header = jsonObjectOf(rawHeader);
  if (!header) return null;
  const keys = Object.keys(header);
  if (keys.length !== HEADER_PARAMETERS.length || !HEADER_PARAMETERS.every((k) => keys.includes(k))) return null;
  const { alg, typ, kid } = header;
  if (typ !== ACCESS_TOKEN_TYPE || typeof alg !== 'string' || typeof kid !== 'string' || !KID_PATTERN.test(kid)) return null;
  return jsonObjectOf(rawPayload) === null ? null : { alg, kid };
}

/** A base64url segment holding a JSON object, or null. */
function jsonObjectOf(segment: string | undefined): Record<string, unknown> | null {
  if (segment === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
