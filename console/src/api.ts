/**
 * The console's client of this server's API (API.md), in the browser transport: every
 * request says `X-Auth-Mode: cookie`, so the refresh token lives only in the HttpOnly
 * cookie, and the access token lives here, in memory, never in storage. A page load
 * restores the session by refreshing with the cookie.
 */

export type Role = 'USER' | 'ADMIN';

export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  role: Role;
  disabled: boolean;
  createdAt: string;
}

export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  sessionId: string;
  user: User;
}

export interface Device {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current?: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AuditEvent {
  id: string;
  type: string;
  userId: string | null;
  actorId: string | null;
  /** The emails of those accounts now; null without one, or once the account is gone. */
  userEmail: string | null;
  actorEmail: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  data: unknown;
}

export interface SigningKey {
  kid: string;
  alg: string;
  status: 'next' | 'active' | 'retiring' | 'revoked';
  createdAt: string;
  activatesAt: string;
  retiresAt: string | null;
}

/** A service that accepts our access tokens (API.md, "Services that accept our access tokens"); never its secret. */
export interface Client {
  id: string;
  name: string;
  clientId: string;
  backchannelLogoutUri: string | null;
  createdAt: string;
}

/** A webhook endpoint (API.md, "Webhooks and back-channel logout"); never its secret. */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** Why the server disabled it (the receiver answered 410 Gone); null otherwise. */
  disabledReason?: string | null;
  createdAt: string;
}

export type DeliveryKind = 'webhook' | 'backchannel' | 'mail';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One outbound delivery of the outbox: never its body, never a token. */
export interface Delivery {
  id: string;
  kind: DeliveryKind;
  /** The endpoint, client or recipient address. */
  target: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

/** An answer other than 2xx, with the server's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the sign-in form says when the session of this browser has ended: after an action, and at a page load alike. */
export const SESSION_ENDED = 'Your session was ended (signed out on another device or by an administrator). Sign in again to continue.';

/** The session of this page has ended (elsewhere, or by an admin): the app shows the sign-in form, and why. */
export class SessionEnded extends Error {
  constructor() {
    super(SESSION_ENDED);
  }
}

/**
 * Why a refresh (401) gave no session. 'no cookie': the request brought none, so this
 * browser holds no session — never signed in, or signed out here (the server clears the
 * cookie then). 'ended': it brought one whose session the server no longer honours —
 * ended elsewhere, by an admin, or by a password change, or expired.
 */
type NoSession = 'no cookie' | 'ended';
/** The refresh's 401 message when no cookie came with it (AuthController.refresh). */
const NO_COOKIE = 'Missing refresh token';
const granted = (refreshed: TokenResponse | NoSession): refreshed is TokenResponse => typeof refreshed !== 'string';

let accessToken: string | null = null;
let refreshing: Promise<TokenResponse | NoSession> | null = null;
const listeners = { ended: (): void => undefined, user: (_user: User): void => undefined };

/** What the app does when the session ends, and when an answer brings a newer view of the user (their role). */
export function onSession(handlers: { ended(): void; user(user: User): void }): void {
  Object.assign(listeners, handlers);
}

function send(method: string, path: string, body?: unknown, token?: string | null): Promise<Response> {
  const headers: Record<string, string> = { 'X-Auth-Mode': 'cookie', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

async function read<T>(res: Response): Promise<T> {
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(data) ?? `The server answered ${res.status} ${res.statusText}`);
  return data as T;
}

/** The error shape `{ statusCode, message, error }`; validation errors list every problem. */
function messageOf(data: unknown): string | undefined {
  const message = (data as { message?: unknown } | undefined)?.message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : undefined;
}

/** A 401 of the bearer guard (it says `WWW-Authenticate: Bearer`), not a wrong password. */
const tokenRefused = (res: Response) => res.status === 401 && res.headers.has('www-authenticate');

/** One refresh at a time, whoever asks: concurrent callers share it. On a 401, why there is no session. */
function refresh(): Promise<TokenResponse | NoSession> {
  refreshing ??= (async () => {
    const res = await send('POST', '/auth/refresh');
    if (res.status === 401) {
      accessToken = null;
      const refusal = await read<never>(res).catch((error: Error) => error.message);
      return refusal === NO_COOKIE ? 'no cookie' : 'ended';
    }
    const grant = await read<TokenResponse>(res);
    accessToken = grant.accessToken;
    return grant;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function ended(): never {
  accessToken = null;
  listeners.ended();
  throw new SessionEnded();
}

/**
 * At page load: the session the cookie holds, or null when there is no cookie. A cookie
 * whose session has ended is told as an action would tell it: the app hears it, and this
 * throws SessionEnded.
 */
export async function restore(): Promise<TokenResponse | null> {
  const refreshed = await refresh();
  if (refreshed === 'ended') ended();
  return granted(refreshed) ? refreshed : null;
}

/** A public route (sign-in, sign-up, recovery): the server's error message on failure. */
export async function publicCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  return read<T>(await send(method, path, body));
}

/** Sign-in or sign-up: the access token is kept in memory, the refresh token in the cookie. */
export async function signIn(path: '/auth/login' | '/auth/register', body: Record<string, string>): Promise<TokenResponse> {
  const grant = await publicCall<TokenResponse>('POST', path, body);
  accessToken = grant.accessToken;
  return grant;
}

/**
 * A route that needs the session. An access token refused by the guard (expired, or its
 * session ended) gets one refresh and the request is sent again; when the refresh is
 * refused too the session has ended: the app is told, and this throws SessionEnded.
 */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (!accessToken && !granted(await refresh())) ended();
  let res = await send(method, path, body, accessToken);
  if (tokenRefused(res)) {
    const grant = await refresh();
    if (!granted(grant)) ended();
    listeners.user(grant.user);
    res = await send(method, path, body, accessToken);
    if (tokenRefused(res)) ended();
  }
  // No longer an admin (a role change applies from the next request): the app hides the admin screens.
  if (res.status === 403 && path.startsWith('/admin/')) await profile().catch(() => undefined);
  return read<T>(res);
}

/**
 * The user as the server sees them now (GET /auth/me): a role change or a verified email
 * shows without a new sign-in. Screens call it with their own loads.
 */
export async function profile(): Promise<User> {
  const user = await call<User>('GET', '/auth/me');
  listeners.user(user);
  return user;
}

/** Logout and logout-all end this session on purpose: forget the token (the server clears the cookie). */
export async function signOut(path: '/auth/logout' | '/auth/logout-all'): Promise<void> {
  try {
    await call<void>('POST', path);
  } finally {
    accessToken = null;
  }
}
