import { isRole, type Role } from './roles';

/** The claims of every access token (API.md, "Tokens": RFC 9068's, with `sid`, `ver` and `role` of ours). */
export interface CoreClaims {
  /** The user id (a lower-case uuid). */
  sub: string;
  /** The session id (a lower-case uuid). */
  sid: string;
  /** The user's refresh-token version when the token was issued: a later one revokes it. */
  ver: number;
  /** The user's role when the token was issued (the auth server answers with the current one). */
  role: Role;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  /** A lower-case uuid. */
  jti: string;
}

/** `acr`: NIST SP 800-63B's assurance levels. `aal1` one factor; `aal2` two, or a passkey with user verification. */
export const ACR_VALUES = ['aal1', 'aal2'] as const;

export type Acr = (typeof ACR_VALUES)[number];

/** How the session's user authenticated (API.md, "Second factors"). */
export interface AuthenticationClaims {
  /** Epoch seconds of the session's last authentication (sign-in or re-authentication; a refresh carries it over). */
  auth_time: number;
  /** RFC 8176 method references: `pwd`, `otp`, `hwk`/`swk`, `user`, `mfa`; `fed` for a sign-in at another provider. */
  amr: string[];
  acr: Acr;
}

/**
 * An access token's claims. The authentication claims come all three or not at all:
 * tokens issued before they were added have none, and stay valid until they expire
 * (ACCESS_TOKEN_TTL, 15 minutes by default).
 */
export type AccessTokenClaims = CoreClaims & Partial<AuthenticationClaims>;

export const CORE_CLAIMS = ['sub', 'sid', 'ver', 'role', 'iat', 'exp', 'iss', 'aud', 'jti'] as const satisfies ReadonlyArray<keyof CoreClaims>;
export const AUTHENTICATION_CLAIMS = ['auth_time', 'amr', 'acr'] as const satisfies ReadonlyArray<keyof AuthenticationClaims>;

/** What the revocation check reads from a verified access token, and the key (header `kid`) that signed it. */
export type AccessTokenFacts = Pick<CoreClaims, 'sub' | 'sid' | 'ver' | 'role'> & { kid: string };

/** Clock difference tolerated between the instance that issued a token and the one that reads it. */
export const CLOCK_SKEW_SECONDS = 60;

export interface ClaimRules {
  /** The `iss` the tokens must have (JWT_ISSUER). */
  issuer: string;
  /** The `aud` the tokens must have (JWT_AUDIENCE). */
  audience: string;
  /**
   * Refuse any claim outside this contract: the issuer's own check, so that what it signs
   * is exactly what it accepts. A relying party leaves it off and ignores claims it does
   * not know (RFC 7519 §4), so that a claim added later does not lock it out.
   */
  exact?: boolean;
  /**
   * Refuse a token without the authentication claims: the issuer's own check (it has put
   * them in every token since they were added). A relying party accepts tokens issued
   * before, which have none, until they expire.
   */
  requireAuthentication?: boolean;
  /** The longest lifetime (`exp - iat`, seconds) a token is issued with: ACCESS_TOKEN_TTL. Unchecked when not known. */
  maxLifetime?: number;
  /** Epoch seconds; default the clock's. */
  now?: number;
}

/** A uuid as the auth server issues them (randomUUID / PostgreSQL): lower case only, so that one id has one spelling. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CONTRACT = new Set<string>([...CORE_CLAIMS, ...AUTHENTICATION_CLAIMS]);

const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
/** An RFC 8176 value's form (its registry's are short lower-case words): any method's, so a new method needs no change here. */
const AMR_VALUE = /^[a-z]{2,16}$/;
/** At most this many `amr` values: far above any sign-in (`hwk`, `user`, `mfa`). */
const MAX_AMR = 8;
const isTime = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * The claims of a payload whose signature, `exp`, `iss` and `aud` the JOSE library has
 * verified, or null when they are not claims the auth server issues: each of its exact
 * type and spelling (`iss`/`aud` single strings, ids lower-case uuids, `ver` a count),
 * `iat` not in the future and before `exp`, the authentication claims all three or none
 * (`authenticationClaimsOf`, and `auth_time` not after `iat`).
 * A token signed with the auth server's key that does not look like one it issued is
 * refused, whoever made it. Only the contract's claims are returned.
 */
export function accessTokenClaimsOf(payload: unknown, rules: ClaimRules): AccessTokenClaims | null {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  if (rules.exact && Object.keys(p).some((claim) => !CONTRACT.has(claim))) return null;
  if (!CORE_CLAIMS.every((claim) => claim in p)) return null;
  const { sub, sid, ver, role, iat, exp, iss, aud, jti } = p;
  if (!isUuid(sub) || !isUuid(sid) || !isUuid(jti) || !Number.isSafeInteger(ver) || (ver as number) < 0 || !isRole(role)) return null;
  if (iss !== rules.issuer || aud !== rules.audience || !isTime(iat) || !isTime(exp)) return null;
  const now = rules.now ?? Math.floor(Date.now() / 1000);
  if (iat > now + CLOCK_SKEW_SECONDS || exp <= iat || (rules.maxLifetime !== undefined && exp - iat > rules.maxLifetime)) return null;
  const claims: AccessTokenClaims = { sub, sid, ver: ver as number, role, iat, exp, iss, aud, jti };
  if (!AUTHENTICATION_CLAIMS.some((claim) => claim in p)) return rules.requireAuthentication ? null : claims;
  const authentication = authenticationClaimsOf(p);
  return authentication && authentication.auth_time <= iat + CLOCK_SKEW_SECONDS ? { ...claims, ...authentication } : null;
}

/**
 * The authentication claims of a payload (a token's, or an introspection answer), or null
 * unless all three are there and well-formed: `auth_time` epoch seconds, `amr` a
 * non-empty list of RFC 8176-shaped names (at most 8), `acr` a level of ACR_VALUES.
 */
export function authenticationClaimsOf(payload: Record<string, unknown>): AuthenticationClaims | null {
  const { auth_time, amr, acr } = payload;
  const methods = Array.isArray(amr) && amr.length > 0 && amr.length <= MAX_AMR && amr.every((m) => typeof m === 'string' && AMR_VALUE.test(m));
  if (!isTime(auth_time) || !methods || !(ACR_VALUES as readonly unknown[]).includes(acr)) return null;
  return { auth_time, amr: [...(amr as string[])], acr: acr as Acr };
}
