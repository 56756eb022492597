import { createHmac } from 'node:crypto';
import type { Http } from '../support/http';
import { newUser, type TestUser } from '../support/factories';

const PERIOD = 30;

/** RFC 4648 base32, decoded here rather than by otplib: the spec's own reading of the secret. */
function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/**
 * RFC 6238 written independently of the server's library (node:crypto only): HMAC-SHA-1
 * over the 8-byte step counter, RFC 4226's dynamic truncation, 6 digits. A code the server
 * accepts from this is a code any authenticator app computes.
 */
export function totpAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 1000 / PERIOD);

/**
 * Waits, when the current 30-second step ends within 8 s, for the next one: the codes a
 * test computes relative to "now" (now − 1 step, now + 1…) stay those the server sees
 * while the test runs. Not a threshold on anything measured: only where in the step to start.
 */
export async function awayFromStepEdge(): Promise<number> {
  const intoStep = (Date.now() / 1000) % PERIOD;
  if (intoStep > PERIOD - 8) await new Promise((resolve) => setTimeout(resolve, (PERIOD - intoStep) * 1000 + 200));
  return currentStep();
}

export interface EnrolledUser extends TestUser {
  secret: string;
  recoveryCodes: string[];
}

/**
 * A new user with TOTP on: enrolled, confirmed with the code of the previous step (drift
 * −1), so that the codes of the current step and the next are still unused.
 */
export async function enrolledUser(http: Http): Promise<EnrolledUser> {
  const user = await newUser(http);
  const step = await awayFromStepEdge();
  const started = await http.post('/auth/mfa/totp', undefined, { token: user.accessToken });
  if (started.status !== 201) throw new Error(`enroll: ${started.status} ${started.text}`);
  const secret = started.body.secret as string;
  const confirmed = await http.post('/auth/mfa/totp/confirm', { code: totpAt(secret, step - 1) }, { token: user.accessToken });
  if (confirmed.status !== 200) throw new Error(`confirm: ${confirmed.status} ${confirmed.text}`);
  return { ...user, secret, recoveryCodes: confirmed.body.recoveryCodes };
}

/**
 * POST /auth/reauthenticate with the TOTP code of `step`: a new access token of the same
 * session at aal2, which the "recent" /auth/mfa/* routes want of a user who has a second
 * factor (the session that enabled TOTP is still aal1). Pass a step not used yet.
 */
export async function steppedUp(http: Http, user: Pick<EnrolledUser, 'accessToken' | 'secret'>, step: number): Promise<string> {
  const res = await http.post('/auth/reauthenticate', { method: 'totp', code: totpAt(user.secret, step) }, { token: user.accessToken });
  if (res.status !== 200) throw new Error(`step-up: ${res.status} ${res.text}`);
  return res.body.accessToken as string;
}

/** POST /auth/login with the user's password: the pending sign-in's mfaToken. */
export async function firstStep(http: Http, user: Pick<TestUser, 'email' | 'password'>, headers: Record<string, string> = {}): Promise<string> {
  const res = await http.post('/auth/login', { email: user.email, password: user.password }, { headers });
  if (res.status !== 200 || !res.body.mfaRequired) throw new Error(`first step: ${res.status} ${res.text}`);
  return res.body.mfaToken as string;
}

export const claimsOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
