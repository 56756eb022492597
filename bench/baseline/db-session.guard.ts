import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { bearerTokenOf } from '@nest-auth-backend/token-contract';
import type { FastifyRequest } from 'fastify';
import { AccessTokens } from '../../src/auth/tokens/access-token';
import { PrismaService } from '../../src/database/prisma.service';

/**
 * BASELINE, benchmark only: what server-session auth costs. The token is verified the same
 * way (its signing key's public KeyObject, the algorithm pinned, every claim), without the
 * verification cache, then the session and its user are read from the database on every
 * request — the classic "check the session table" guard, which revokes instantly but pays
 * a signature check and a round trip per request.
 */
@Injectable()
export class DbSessionGuard implements CanActivate {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly prisma: PrismaService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { session?: unknown }>();
    const token = bearerTokenOf(request);
    const verification = token ? this.tokens.verify(token) : undefined;
    if (!verification?.ok) throw new UnauthorizedException();
    const claims = verification.token.facts;
    const session = await this.prisma.session.findUnique({ where: { id: claims.sid }, include: { user: true } });
    if (!session || session.revokedAt || session.userId !== claims.sub || session.user.disabled) throw new UnauthorizedException();
    if (claims.ver < session.user.refreshTokenVersion) throw new UnauthorizedException();
    request.session = session;
    return true;
  }
}
