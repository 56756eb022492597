import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UnauthorizedException, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Acr } from '@nest-auth-backend/token-contract';
import type { Authentication } from './auth-client.service';
import { AuthGuard } from './auth.guard';

/** What a route demands of the caller's authentication (`@RequireAuth(...)`). */
export interface AuthDemand {
  /** The level: `aal2` wants a second factor at sign-in (or at the last re-authentication). */
  acr?: Acr;
  /** Seconds: the sign-in or re-authentication (`auth_time`) at most this old. */
  maxAge?: number;
}

export const REQUIRE_AUTH = 'nest-auth-client:require-auth';

const STALE = 'A more recent authentication is required';
const WEAK = 'Authentication with a second factor is required';

/** What a refusal answers: the 401's message and its `WWW-Authenticate` (RFC 9470 §3). */
export interface StepUpRefusal {
  description: string;
  challenge: string;
}

/**
 * The step-up rule, from the token's claims alone (no call to the auth server): null when
 * `authentication` meets `demand` at `nowSeconds`, else RFC 9470's challenge, the auth
 * server's own form: `Bearer error="insufficient_user_authentication",
 * error_description="…"`, then `max_age=<seconds>` when the route sets one, and
 * `acr_values="aal2"` when the level is what is missing. A token without the sign-in claims
 * (issued before the auth server carried them) meets no demand: its age is unknown, its
 * level aal1.
 */
export function stepUpRefusal(
  authentication: Authentication | undefined,
  demand: AuthDemand,
  nowSeconds = Math.floor(Date.now() / 1000),
): StepUpRefusal | null {
  const weak = demand.acr === 'aal2' && authentication?.acr !== 'aal2';
  const stale = demand.maxAge !== undefined && (authentication === undefined || nowSeconds - authentication.authTime > demand.maxAge);
  if (!weak && !stale) return null;
  const description = weak ? WEAK : STALE;
  const maxAge = demand.maxAge !== undefined ? `, max_age=${demand.maxAge}` : '';
  const acr = weak ? `, acr_values="${demand.acr}"` : '';
  return { description, challenge: `Bearer error="insufficient_user_authentication", error_description="${description}"${maxAge}${acr}` };
}

/**
 * After AuthGuard: refuses a caller whose authentication does not meet the route's
 * `@RequireAuth(...)` with 401 and RFC 9470's challenge, so that the client re-authenticates
 * at the auth server (POST /auth/reauthenticate) and comes back with a new access token.
 */
@Injectable()
export class StepUpGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const demand = this.reflector.getAllAndOverride<AuthDemand | undefined>(REQUIRE_AUTH, [context.getHandler(), context.getClass()]);
    if (!demand) return true;
    const http = context.switchToHttp();
    const refusal = stepUpRefusal(http.getRequest<{ authInfo?: Authentication }>().authInfo, demand);
    if (!refusal) return true;
    const reply = http.getResponse<{ header?: (name: string, value: string) => unknown; setHeader?: (name: string, value: string) => unknown }>();
    // Fastify's reply.header, or Express's res.setHeader.
    if (typeof reply.header === 'function') reply.header('www-authenticate', refusal.challenge);
    else reply.setHeader?.('www-authenticate', refusal.challenge);
    throw new UnauthorizedException(refusal.description);
  }
}

/**
 * `@RequireAuth({ acr: 'aal2', maxAge: 300 })`: AuthGuard, then the step-up rule from the
 * token's `acr` and `auth_time`. `@RequireAuth()` alone is `@UseGuards(AuthGuard)`.
 */
export const RequireAuth = (demand: AuthDemand = {}) => {
  if (demand.maxAge !== undefined && !(Number.isInteger(demand.maxAge) && demand.maxAge >= 0)) {
    throw new Error(`@RequireAuth: maxAge must be a whole number of seconds, got ${String(demand.maxAge)}`);
  }
  return applyDecorators(SetMetadata(REQUIRE_AUTH, demand), UseGuards(AuthGuard, StepUpGuard));
};
