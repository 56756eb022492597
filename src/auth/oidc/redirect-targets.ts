import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/configuration';

/**
 * Where a sign-in at a provider may send the browser at its end (API.md: `redirect`): a
 * path of this server (one leading `/`: `//host` and `/\host` are other hosts to a
 * browser), or a URL whose origin is APP_URL's or one of CORS_ORIGINS. Anything else
 * would make the callback an open redirect, carrying an mfaToken to a stranger.
 */
@Injectable()
export class RedirectTargets {
  private readonly origins: Set<string>;

  constructor(config: ConfigService<AppConfig, true>) {
    this.origins = new Set([new URL(config.get('app.url', { infer: true })).origin, ...config.get('app.corsOrigins', { infer: true })]);
  }

  /** The target as it will be used, or null when it is not allowed. */
  check(value: unknown): string | null {
    if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return null;
    // Control characters and backslashes are read differently by browsers and by URL parsers.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(value)) return null;
    if (value.startsWith('/')) return value.startsWith('//') ? null : value;
    if (!URL.canParse(value)) return null;
    const url = new URL(value);
    if (url.username || url.password) return null;
    return this.origins.has(url.origin) ? url.href : null;
  }
}

/** `target` with `fragment` as its fragment (one it had is replaced): the fragment never reaches a server or a Referer. */
export function withFragment(target: string, fragment: Record<string, string>): string {
  const hash = target.indexOf('#');
  return `${hash === -1 ? target : target.slice(0, hash)}#${new URLSearchParams(fragment).toString()}`;
}
