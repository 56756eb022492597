import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/configuration';
import { normalizeEmail } from '../../users/email';
import { deriveKey, SERVER_SECRET } from '../secret/server-secret';

export const DEVICE_COOKIE = 'auth_device';
/** Sent only with login attempts, the one request that reads it. */
const COOKIE_PATH = '/auth/login';
const COOKIE_MAX_AGE_SECONDS = 365 * 86_400;
/** Accounts one device cookie vouches for; the oldest drops out first. */
const MAX_ACCOUNTS = 8;
const VERSION = 'v1';

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").
 *
 * Without them the per-email login limit is a lock anyone can turn: ten wrong guesses a
 * minute from a few addresses keep a named account (an admin's) at 429 for its owner too.
 * With them, a client that has signed in to an account before carries a signed cookie
 * saying so, and its attempts count against a budget of that device alone; every other
 * client (the strangers) shares the account's per-email budget. Guessing from fresh
 * clients then locks out only fresh clients, and a stolen device cookie buys one
 * device's budget, not more.
 *
 * The cookie names no account: it holds a random device id and, per account signed in
 * to, a keyed digest of the email, all under an HMAC, so it can be neither read nor
 * forged. Its key is derived from the server secret for this purpose alone.
 */
@Injectable()
export class DeviceCookies {
  private readonly key: Buffer;
  private readonly secure: boolean;

  constructor(@Inject(SERVER_SECRET) secret: KeyObject, config: ConfigService<AppConfig, true>) {
    this.key = deriveKey(secret, 'device-cookie-key');
    this.secure = config.get('auth.cookieSecure', { infer: true });
  }

  /** The device id of `request` if its cookie vouches for `email`, else undefined (a stranger). */
  trustedDevice(request: FastifyRequest, email: string): string | undefined {
    const cookie = this.read(request);
    return cookie?.accounts.includes(this.accountDigest(email)) ? cookie.deviceId : undefined;
  }

  /** After a successful login: the device's cookie now vouches for `email` too. */
  remember(request: FastifyRequest, reply: FastifyReply, email: string): void {
    const cookie = this.read(request) ?? { deviceId: randomBytes(16).toString('base64url'), accounts: [] };
    const digest = this.accountDigest(email);
    const accounts = [...cookie.accounts.filter((a) => a !== digest), digest].slice(-MAX_ACCOUNTS);
    const body = `${VERSION}.${cookie.deviceId}.${accounts.join('~')}`;
    void reply.setCookie(DEVICE_COOKIE, `${body}.${this.mac(body)}`, {
      httpOnly: true,
      secure: this.secure,
      sameSite: 'strict',
      path: COOKIE_PATH,
      maxAge: COOKIE_MAX_AGE_SECONDS,
    });
  }

  private read(request: FastifyRequest): { deviceId: string; accounts: string[] } | undefined {
    const value = request.cookies?.[DEVICE_COOKIE];
    const parts = typeof value === 'string' ? value.split('.') : [];
    if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
    const [version, deviceId, accounts, mac] = parts;
    const expected = Buffer.from(this.mac(`${version}.${deviceId}.${accounts}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return { deviceId, accounts: accounts ? accounts.split('~') : [] };
  }

  private accountDigest(email: string): string {
    return createHmac('sha256', this.key).update('account\0').update(normalizeEmail(email)).digest().subarray(0, 16).toString('base64url');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update('cookie\0').update(body).digest('base64url');
  }
}
