import { ipOf, throttleBucket } from '../throttling/auth-throttling';

/**
 * WebAuthn options a minute per client IP (RATE_LIMIT_REFRESH, default 120): each costs one
 * row, no hash, and proves nothing, so they do not spend the login budget; a sign-in page
 * asks for them each time it shows (the browser's passkey autofill), and several people
 * behind one address must not lock each other out of signing in. The answers are what is
 * limited as logins (RATE_LIMIT_LOGIN).
 */
export const PASSKEY_OPTIONS_PER_IP = throttleBucket({
  name: 'webauthn-options-ip',
  limit: (config) => config.get('auth.refreshRateLimit', { infer: true }),
  tracker: ipOf,
});
