import { UnauthorizedException } from '@nestjs/common';

/** error_description when the token's `auth_time` is older than the route accepts. */
export const MORE_RECENT_AUTH_REQUIRED = 'A more recent authentication is required';
/** error_description when the level (`acr`) is what is missing. */
export const SECOND_FACTOR_REQUIRED = 'Authentication with a second factor is required';

/**
 * RFC 9470 §3: the 401 of a valid token whose authentication is too old or too weak for
 * the route. The exception carries its `WWW-Authenticate` challenge (the exception filter
 * sets it), so a guard and a service answer it alike; the JSON body is the usual one, its
 * message the challenge's `error_description`.
 */
export class InsufficientUserAuthentication extends UnauthorizedException {
  readonly wwwAuthenticate: string;

  constructor(demand: { maxAge: number; acr?: 'aal2' }) {
    const description = demand.acr ? SECOND_FACTOR_REQUIRED : MORE_RECENT_AUTH_REQUIRED;
    super(description);
    this.wwwAuthenticate = challengeOf(description, demand);
  }
}

/** The challenge: error, error_description, max_age (seconds), and acr_values when the level is missing. */
export function challengeOf(description: string, demand: { maxAge: number; acr?: string }): string {
  const acr = demand.acr ? `, acr_values="${demand.acr}"` : '';
  return `Bearer error="insufficient_user_authentication", error_description="${description}", max_age=${demand.maxAge}${acr}`;
}
