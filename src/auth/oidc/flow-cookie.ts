import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { compactDecrypt, CompactEncrypt } from 'jose';
import type { AppConfig } from '../../config/configuration';
import { deriveKey, SERVER_SECRETS, type ServerSecrets } from '../secret/server-secret';

export const FLOW_COOKIE = 'oidc_flow';
/** Sent only to the OpenID Connect routes (the callback reads it). */
const COOKIE_PATH = '/auth/oidc';
/** How long a person has at the provider: the flow is refused after it (`#error=expired`). */
export const FLOW_TTL_SECONDS = 10 * 60;
/**
 * The cookie outlives the flow by a little, so that a late return is told `expired` (the
 * cookie names where to send it back) rather than a bare 400.
 */
const COOKIE_MAX_AGE_SECONDS = FLOW_TTL_SECONDS + 5 * 60;
const PURPOSE = 'oidc-flow-cookie';

/** One sign-in (or link) in progress at a provider: what the callback checks its answer against. */
export interface OidcFlow {
  provider: string;
  state: string;
  nonce: string;
  /** The PKCE code verifier (RFC 7636, S256): only its challenge went to the provider. */
  verifier: string;
  /** Where the browser goes at the end (checked at the start: a path or an allowed origin). */
  redirect: string;
  /** This server's callback URL as sent to the provider (the token request repeats it). */
  redirectUri: string;
  /** Sign in (or create) — or link to the signed-in account `userId`, from its session `sessionId`. */
  mode: 'sign-in' | 'link';
  userId?: string;
  sessionId?: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/**
 * The flow cookie: the state, nonce and PKCE verifier of a sign-in at a provider, bound to
 * the browser that started it. Encrypted and authenticated (JWE, dir + A256GCM) under a key
 * derived from the server secret for this purpose alone: the browser can neither read the
 * verifier nor forge a flow. HttpOnly; SameSite=Lax, because the provider sends the browser
 * back with a top-level GET from its own site (Strict would withhold the cookie); Path
 * /auth/oidc. Opened under AUTH_SECRET_PREVIOUS too while the secret rotates.
 */
@Injectable()
export class FlowCookies {
  private readonly keys: Uint8Array[];
  private readonly secure: boolean;

  constructor(@Inject(SERVER_SECRETS) secrets: ServerSecrets, config: ConfigService<AppConfig, true>) {
    this.keys = [secrets.current, ...(secrets.previous ? [secrets.previous] : [])].map((secret) => new Uint8Array(deriveKey(secret, PURPOSE)));
    this.secure = config.get('auth.cookieSecure', { infer: true });
  }

  async seal(flow: Omit<OidcFlow, 'expiresAt'>, expiresAt = Math.floor(Date.now() / 1000) + FLOW_TTL_SECONDS): Promise<string> {
    const payload = new TextEncoder().encode(JSON.stringify({ ...flow, expiresAt }));
    return new CompactEncrypt(payload).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: PURPOSE }).encrypt(this.keys[0]);
  }

  /** The flow the cookie holds, expired or not (the caller tells), or null: absent, forged, or of another secret. */
  async open(value: string | undefined): Promise<OidcFlow | null> {
    if (!value) return null;
    for (const key of this.keys) {
      try {
        const { plaintext, protectedHeader } = await compactDecrypt(value, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
        if (protectedHeader.cty !== PURPOSE) return null;
        return JSON.parse(new TextDecoder().decode(plaintext)) as OidcFlow;
      } catch {
        // not under this key: try the previous secret's
      }
    }
    return null;
  }

  read(request: FastifyRequest): string | undefined {
    return request.cookies?.[FLOW_COOKIE];
  }

  set(reply: FastifyReply, sealed: string): void {
    void reply.setCookie(FLOW_COOKIE, sealed, { httpOnly: true, secure: this.secure, sameSite: 'lax', path: COOKIE_PATH, maxAge: COOKIE_MAX_AGE_SECONDS });
  }

  /** A flow is used once: the callback clears it whatever the outcome. */
  clear(reply: FastifyReply): void {
    void reply.clearCookie(FLOW_COOKIE, { httpOnly: true, secure: this.secure, sameSite: 'lax', path: COOKIE_PATH });
  }
}
