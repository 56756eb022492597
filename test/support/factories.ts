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
