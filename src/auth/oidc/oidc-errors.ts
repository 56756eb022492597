/**
 * The codes a sign-in at another provider ends with, in the redirect's fragment
 * (`redirect#error=<code>`): what the console explains in words (console/src/providers.tsx)
 * and docs/providers.md lists.
 */
export const OIDC_ERROR_CODES = {
  access_denied: 'the person declined at the provider',
  provider_error: 'the provider answered with another error',
  provider_unavailable: 'the provider could not be reached (discovery, token or userinfo request failed or timed out)',
  invalid_response: "the provider's answer failed verification (iss, ID token signature, nonce, PKCE, code)",
  expired: 'the sign-in took longer than 10 minutes at the provider',
  account_exists: 'an account holds this email, and the provider or the account has not verified it: sign in and link from the account',
  registration_closed: 'no account is linked and REGISTRATION_ENABLED=false',
  email_missing: 'no account is linked and the provider gave no email to make one with',
  email_not_verified: 'REQUIRE_VERIFIED_EMAIL=true and the address is not verified',
  account_disabled: 'the account is disabled',
  identity_in_use: 'linking: this provider account is linked to another account',
  session_ended: 'linking: the session that asked for the link has ended',
  sign_in_failed: 'the sign-in could not complete (the account changed meanwhile, or a level it cannot reach is required)',
} as const;

export type OidcErrorCode = keyof typeof OIDC_ERROR_CODES;

/** A flow that ends with `#error=<code>`; `why` goes to the one log line, never to the browser. */
export class OidcFailure extends Error {
  constructor(
    readonly code: OidcErrorCode,
    readonly why: string,
  ) {
    super(`${code}: ${why}`);
  }
}
