import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { ErrorBody } from './http-exception.filter';

/**
 * The OpenAPI side of the contract (API.md), in a few composed decorators, so that each
 * route's decorators read as its row of API.md: who may call it, what it answers, and
 * every way it fails. `serveApiDocs` (app.factory.ts) declares the security schemes.
 */

/** Security scheme names, declared by serveApiDocs and required by the decorators below. */
export const SECURITY = { bearer: 'bearer', refreshCookie: 'refresh-cookie', client: 'client' } as const;

/** The body of every error response: the exception filter's ErrorBody, as a schema. */
export class ErrorResponse implements ErrorBody {
  @ApiProperty({ type: 'integer', example: 400, description: 'The HTTP status' })
  statusCode!: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'What went wrong; validation errors list every problem',
  })
  message!: string | string[];

  @ApiProperty({ example: 'Bad Request', description: 'The status text' })
  error!: string;
}

/** The error statuses routes answer, each with what it means unless a route says more. */
const STANDARD_ERRORS = {
  400: 'Invalid request; `message` lists every problem',
  401: 'No valid access token',
  403: 'The caller is not an admin',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body larger than BODY_LIMIT',
  415: 'Request body is not JSON (application/json, UTF-8)',
  429: 'Too many attempts; see Retry-After',
  503: 'Database unavailable',
} as const;

export type ErrorStatus = keyof typeof STANDARD_ERRORS;

/** Throttled answers say when to come back (AuthThrottlerGuard). */
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } };

/**
 * Error responses with the ErrorResponse schema: a status alone takes its standard
 * description, `{ 409: 'Email already registered' }` gives the route's own.
 * On a method they replace the class's responses of the same status.
 */
export const ApiErrors = (...errors: Array<ErrorStatus | Partial<Record<ErrorStatus, string>>>) =>
  applyDecorators(
    ...errors
      .flatMap((error): Array<[string | number, string]> => (typeof error === 'number' ? [[error, STANDARD_ERRORS[error]]] : Object.entries(error)))
      .map(([status, description]) =>
        ApiResponse({
          status: Number(status),
          description,
          type: ErrorResponse,
          ...(Number(status) === 429 ? { headers: RETRY_AFTER } : {}),
        }),
      ),
  );

/** A bearer route: the access token (JWT) is required, 401 without a valid one. */
export const ApiBearer = (unauthorized: string = STANDARD_ERRORS[401]) => applyDecorators(ApiSecurity(SECURITY.bearer), ApiErrors({ 401: unauthorized }));

/** A route of services (relying parties): HTTP Basic client credentials, 401 without valid ones, 429 after too many failures. */
export const ApiClientAuth = () => applyDecorators(ApiSecurity(SECURITY.client), ApiErrors({ 401: 'No valid client credentials (HTTP Basic)' }, 429));

/** A route that reads the refresh cookie (cookie mode) or, without a security scheme, the body. */
export const ApiRefreshCookie = () => applyDecorators(ApiSecurity(SECURITY.refreshCookie), ApiSecurity({}));

/** A route that reads a JSON body: 400 invalid, 413 too large, 415 not JSON. */
export const ApiJsonBody = (invalid: string = STANDARD_ERRORS[400]) => ApiErrors({ 400: invalid }, 413, 415);

/** A route that uses the database: 503 while it is unreachable. */
export const ApiDatabase = (unavailable: string = STANDARD_ERRORS[503]) => ApiErrors({ 503: unavailable });
