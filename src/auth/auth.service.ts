import { ConflictException, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { ClientMeta } from '../common/client-meta';
import { PrismaService } from '../database/prisma.service';
import { Prisma, type User } from '../generated/prisma/client';
import { normalizeEmail } from '../users/email';
import { UserDto } from '../users/user.dto';
import { UsersService } from '../users/users.service';
import type { AuthUser } from './auth-user';
import type { ChangePasswordDto, RegisterDto } from './dto/credentials.dto';
import type { TokenResponseDto } from './dto/token-response.dto';
import { PasswordService } from './passwords/password.service';
import { RevocationService } from './revocation/revocation.service';
import { SessionService, type IssuedSession } from './sessions/session.service';
import { TokenService } from './tokens/token.service';

/** The one message for every failed login: unknown email, wrong password, disabled account. */
export const LOGIN_FAILED = 'Invalid email or password';
export const CURRENT_PASSWORD_INCORRECT = 'Current password is incorrect';

/** A token response before the controller picks the transport of the refresh token. */
export interface Issued {
  response: TokenResponseDto & { refreshToken: string };
  /** When the session ends at the latest: the refresh cookie's expiry. */
  sessionExpiresAt: Date;
}

/** The /auth flows. Controllers stay HTTP-only; the rules live here and in SessionService. */
@Injectable()
export class AuthService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
  ) {}

  async register(dto: RegisterDto, client: ClientMeta): Promise<Issued> {
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      const issued = await this.prisma.$transaction(async (tx) => {
        const user = await tx.user.create({ data: { email: normalizeEmail(dto.email), passwordHash, name: dto.name ?? null } });
        const issued = await this.sessions.create(tx, user, client);
        await this.audit.record({ type: 'user.registered', userId: user.id, sessionId: issued.session.id, client }, tx);
        return issued;
      });
      return this.respond(issued);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new ConflictException('Email is already registered');
      }
      throw error;
    }
  }

  /**
   * Checks a login (LocalStrategy). Always spends one argon2 verification, against a
   * dummy hash when the email is unknown, and answers the same for every failure, so
   * neither the status, the body nor the time tells which check failed.
   */
  async validateCredentials(email: string, password: string, client: ClientMeta): Promise<User> {
    const user = await this.users.findByEmail(email);
    const passwordOk = await this.passwords.verify(user?.passwordHash, password);
    if (user && passwordOk && !user.disabled) return user;
    const reason = !user ? 'unknown_email' : !passwordOk ? 'wrong_password' : 'disabled';
    await this.audit.record({ type: 'login.failed', userId: user?.id, client, data: { email: normalizeEmail(email), reason } });
    throw new UnauthorizedException(LOGIN_FAILED);
  }

  async login(user: User, client: ClientMeta): Promise<Issued> {
    const issued = await this.prisma.$transaction(async (tx) => {
      const issued = await this.sessions.create(tx, user, client);
      await this.audit.record({ type: 'login.succeeded', userId: user.id, sessionId: issued.session.id, client }, tx);
      return issued;
    });
    return this.respond(issued);
  }

  async refresh(refreshToken: string, client: ClientMeta): Promise<Issued> {
    return this.respond(await this.sessions.rotate(refreshToken, client));
  }

  /** RFC 7009: ends the session of a refresh token if there is one; silent either way. */
  async revoke(refreshToken: string, client: ClientMeta): Promise<void> {
    const session = await this.sessions.findByRefreshToken(refreshToken);
    if (!session) return;
    await this.sessions.endOne({ id: session.id }, { actorId: session.userId, reason: 'REVOKED', client });
  }

  async logout(me: AuthUser, client: ClientMeta): Promise<void> {
    await this.sessions.endOne({ id: me.sessionId, userId: me.id }, { actorId: me.id, reason: 'LOGOUT', client });
  }

  async logoutAll(me: AuthUser, client: ClientMeta): Promise<void> {
    await this.revocation.transaction(async (tx, revoke) => {
      const ended = await this.sessions.endAllOfUser(tx, revoke, me.id, 'LOGOUT_ALL');
      await this.audit.record(
        { type: 'user.logged_out_everywhere', userId: me.id, actorId: me.id, sessionId: me.sessionId, client, data: { sessionsEnded: ended } },
        tx,
      );
    });
  }

  /**
   * POST /auth/password. A stolen access token alone cannot change the password: the
   * current one is required. The other sessions end (someone who knew the old password
   * may hold one); the caller's session and access token keep working, so
   * refreshTokenVersion is left alone and only the other sessions are declared ended.
   */
  async changePassword(me: AuthUser, dto: ChangePasswordDto, client: ClientMeta): Promise<void> {
    const user = await this.prisma.user.findUnique({ where: { id: me.id }, select: { passwordHash: true } });
    if (!(await this.passwords.verify(user?.passwordHash, dto.currentPassword))) {
      throw new UnauthorizedException(CURRENT_PASSWORD_INCORRECT);
    }
    const passwordHash = await this.passwords.hash(dto.newPassword);
    await this.revocation.transaction(async (tx, revoke) => {
      // Compare-and-set on the hash just verified: of two concurrent changes that both
      // knew the old password, the second finds it gone and is refused (rolled back).
      const { count } = await tx.user.updateMany({ where: { id: me.id, passwordHash: user!.passwordHash }, data: { passwordHash } });
      if (count === 0) throw new UnauthorizedException(CURRENT_PASSWORD_INCORRECT);
      const { length: ended } = await this.sessions.endWhere(tx, revoke, { userId: me.id, id: { not: me.sessionId } }, 'PASSWORD_CHANGED');
      await this.audit.record(
        { type: 'password.changed', userId: me.id, actorId: me.id, sessionId: me.sessionId, client, data: { otherSessionsEnded: ended } },
        tx,
      );
    });
  }

  async me(me: AuthUser): Promise<UserDto> {
    const user = await this.users.me(me.id, me.role);
    if (!user) throw new UnauthorizedException();
    return user;
  }

  private respond({ session, user, refreshToken }: IssuedSession): Issued {
    this.users.remember(user);
    const response = {
      accessToken: this.tokens.signAccessToken({
        userId: user.id,
        sessionId: session.id,
        tokenVersion: user.refreshTokenVersion,
        role: user.role,
      }),
      refreshToken,
      tokenType: 'Bearer' as const,
      expiresIn: this.tokens.accessTokenTtl,
      sessionId: session.id,
      user: UserDto.from(user),
    };
    return { response, sessionExpiresAt: session.absoluteExpiresAt };
  }
}
