import { randomBytes } from 'node:crypto';
import type { Http } from './http';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

let counter = 0;

/** Registers a new user through the API and returns its first session's tokens. */
export async function newUser(http: Http, overrides: { email?: string; password?: string; name?: string } = {}): Promise<TestUser> {
  const email = overrides.email ?? `user${++counter}-${randomBytes(3).toString('hex')}@example.com`;
  const password = overrides.password ?? `pw-${randomBytes(8).toString('hex')}`;
  const res = await http.post('/auth/register', { email, password, name: overrides.name ?? 'Test User' });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return {
    id: res.body.user.id,
    email,
    password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    sessionId: res.body.sessionId,
  };
}

/** Logs an existing user in again: a new session with its own tokens. */
export async function newSession(http: Http, user: Pick<TestUser, 'email' | 'password'>, headers: Record<string, string> = {}) {
  const res = await http.post('/auth/login', { email: user.email, password: user.password }, { headers });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return { accessToken: res.body.accessToken as string, refreshToken: res.body.refreshToken as string, sessionId: res.body.sessionId as string };
}

/** The first admin: `useApp(ADMIN_ENV)` creates it at start (ADMIN_EMAIL + ADMIN_PASSWORD). */
export const ADMIN = { email: 'admin@example.com', password: 'admin-passphrase-1' };
export const ADMIN_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };

/** Signs an admin in (by default the first admin of ADMIN_ENV): a new session with its tokens. */
export async function newAdmin(http: Http, credentials: { email: string; password: string } = ADMIN): Promise<TestUser> {
  const res = await http.post('/auth/login', credentials);
  if (res.status !== 200 || res.body.user.role !== 'ADMIN') throw new Error(`admin login failed: ${res.status} ${res.text}`);
  return { id: res.body.user.id, ...credentials, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken, sessionId: res.body.sessionId };
}
