import { CanActivate, createParamDecorator, ExecutionContext, HttpException, HttpStatus, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { clientMetaOf } from '../common/client-meta';
import type { AppConfig } from '../config/configuration';
import { PostgresThrottlerStorage } from '../throttling/postgres-throttler.storage';
import { basicCredentialsOf } from './client-secrets';
import { ClientsService, type AuthenticatedClient } from './clients.service';

export const INVALID_CLIENT = 'Invalid client credentials';
const THROTTLE_NAME = 'client-auth';
const MINUTE = 60_000;
/** Longest presented client id kept in the audit log (it is whatever the caller sent). */
const AUDITED_ID_MAX = 100;

/**
 * HTTP Basic client authentication (RFC 6749 §2.3.1) for the routes of services:
 * /auth/introspect and /auth/revocations. The client is left on `request.serviceClient`
 * (`@CurrentClient()`).
 *
 * Failures are counted per (source address, client id) in the shared throttle table,
 * RATE_LIMIT_LOGIN a minute: past it that pair gets 429 for the rest of the minute. A
 * stranger's failures from another address never touch a real service's budget, so
 * nobody can lock a service out by guessing its id; failures with ids that name no
 * client share one budget per address, so inventing ids buys nothing. Each window's
 * first failure is audited (`client.auth_failed`), the others only counted: a flood
 * writes one event a minute per pair, not one per request. Successes are not counted:
 * a secret of 256 bits cannot be guessed, the limit bounds the cost and the log.
 */
@Injectable()
export class ClientAuthGuard implements CanActivate {
  private readonly limit: number;

  constructor(
    private readonly clients: ClientsService,
    private readonly throttle: PostgresThrottlerStorage,
    private readonly audit: AuditService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.limit = config.get('auth.loginRateLimit', { infer: true });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { serviceClient?: AuthenticatedClient }>();
    const credentials = basicCredentialsOf(request);
    const client = credentials ? await this.clients.authenticate(credentials.clientId, credentials.secret) : null;
    if (client) {
      request.serviceClient = client;
      return true;
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    await this.failed(request, reply, credentials?.clientId ?? null);
    void reply.header('www-authenticate', 'Basic realm="clients", charset="UTF-8"');
    throw new UnauthorizedException(INVALID_CLIENT);
  }

  private async failed(request: FastifyRequest, reply: FastifyReply, presentedId: string | null): Promise<void> {
    const known = presentedId !== null && (await this.clients.exists(presentedId));
    const key = `${request.ip}:${known ? presentedId : '?'}`;
    // With RATE_LIMIT_LOGIN=0 nothing is refused, but the window still spaces the audit events.
    const limit = this.limit === 0 ? Number.MAX_SAFE_INTEGER : this.limit;
    const record = await this.throttle.increment(key, MINUTE, limit, MINUTE, THROTTLE_NAME);
    if (record.totalHits === 1 && !record.isBlocked) {
      await this.audit.recordAlone({
        type: 'client.auth_failed',
        client: clientMetaOf(request),
        data: { clientId: presentedId?.slice(0, AUDITED_ID_MAX) ?? null, knownClient: known, window: '1 minute' },
      });
    }
    if (record.isBlocked) {
      void reply.header('retry-after', String(Math.max(1, record.timeToBlockExpire)));
      throw new HttpException(
        { statusCode: HttpStatus.TOO_MANY_REQUESTS, message: 'Too many failed client authentications; try again later', error: 'Too Many Requests' },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }
}

/** `@CurrentClient() client: AuthenticatedClient`: the service that called (after ClientAuthGuard). */
export const CurrentClient = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthenticatedClient => ctx.switchToHttp().getRequest<{ serviceClient: AuthenticatedClient }>().serviceClient,
);
