import type { KeyObject } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyRequest } from 'fastify';
import { verify } from 'jsonwebtoken';
import { SERVER_SECRET } from '../../src/auth/tokens/server-secret';
import type { AppConfig } from '../../src/config/configuration';
import { PrismaService } from '../../src/database/prisma.service';

/**
 * BASELINE, benchmark only: what server-session auth costs. The token is verified the same
 * way (HS256, KeyObject), then the session and its user are read from the database on
 * every request — the classic "check the session table" guard, which revokes instantly
 * but pays a round trip per request.
 */
@Injectable()
export class DbSessionGuard implements CanActivate {
  constructor(
    @Inject(SERVER_SECRET) private readonly key: KeyObject,
    private readonly config: ConfigService<AppConfig, true>,
    private readonly prisma: PrismaService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { session?: unknown }>();
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    if (!token) throw new UnauthorizedException();
    let claims: { sid: string; sub: string; ver: number };
    try {
      claims = verify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.config.get('auth.issuer', { infer: true }),
        audience: this.config.get('auth.audience', { infer: true }),
      }) as typeof claims;
    } catch {
      throw new UnauthorizedException();
    }
    const session = await this.prisma.session.findUnique({ where: { id: claims.sid }, include: { user: true } });
    if (!session || session.revokedAt || session.userId !== claims.sub || session.user.disabled) throw new UnauthorizedException();
    if (claims.ver < session.user.refreshTokenVersion) throw new UnauthorizedException();
    request.session = session;
    return true;
  }
}
