import { ConflictException, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MAX_TOKEN_LENGTH, type Acr } from '@nest-auth-backend/token-contract';
import { AuditService, type AuditEntry } from '../audit/audit.service';
import { MetricsService } from '../metrics/metrics.service';
import type { ClientMeta } from '../common/client-meta';
import type { AppConfig } from '../config/configuration';
import { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import { UserDto } from '../users/user.dto';
import { UsersService } from '../users/users.service';
import { isEmailTaken, UsersRepository } from '../users/users.repository';
import type { AuthUser } from './auth-user';
import type { ChangePasswordDto, RegisterDto } from './dto/credentials.dto';
import type { TokenResponseDto } from './dto/token-response.dto';
import { PasswordService } from './passwords/password.service';
import { AccountTokensRepository } from './recovery/account-tokens.repository';
import type { VerificationRequiredDto } from './recovery/recovery.dto';
import { RecoveryService } from './recovery/recovery.service';
import { RevocationService } from './revocation/revocation.service';
import { SessionEndingService } from './sessions/session-ending.service';
import { SessionRotationService, type SessionGrant } from './sessions/session-rotation.service';
import { SessionsRepository } from './sessions/sessions.repository';
import type { LoginMfaDto } from './mfa/mfa.dto';
import type { MfaRequiredDto } from './sign-in/mfa-required.dto';
import { PASSWORD_FACTS } from './sign-in/password/password.method';
import type { SignInFacts } from './sign-in/sign-in-facts';
import { SignInService } from './sign-in/sign-in.service';
import { AccessTokens } from './tokens/access-token';
import { RefreshTokens } from './tokens/refresh-token';

export const CURRENT_PASSWORD_INCORRECT = 'Current password is incorrect';
export const EMAIL_TAKEN = 'Email is already registered';
export const REGISTRATION_DISABLED = 'Registration is disabled on this server: ask an administrator for an account';

/** A token response before the controller picks the transport of the refresh token. */
export interface TokenGrant {
  response: TokenResponseDto & { refreshToken: string };
  /** When the session ends at the latest: the refresh cookie's expiry. */
  sessionExpiresAt: Date;
}

/** The /auth flows (API.md, "Auth"), one method per route. Controllers stay HTTP-only. */
@Injectable()
export class AuthService {
  private readonly requireVerifiedEmail: boolean;
  private readonly registrationEnabled: boolean;

  constructor(
    private readonly prisma: PrismaService,
    private readonly users: UsersRepository,
    private readonly profiles: UsersService,
    private readonly passwords: PasswordService,
    private readonly rotation: SessionRotationService,
    private readonly endings: SessionEndingService,
    private readonly sessions: SessionsRepository,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
    private readonly signIn: SignInService,
    private readonly recovery: RecoveryService,
    private readonly accountTokens: AccountTokensRepository,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.requireVerifiedEmail = config.get('recovery.requireVerifiedEmail', { infer: true });
    this.registrationEnabled = config.get('auth.registrationEnabled', { infer: true });
  }

  /**
   * The account, its verification mail (when mail is on) and, unless REQUIRE_VERIFIED_EMAIL,
   * its first session, in one transaction. With REQUIRE_VERIFIED_EMAIL there is no session
   * until the address is verified: the answer is the user and `verificationRequired`.
   */
  async register(dto: RegisterDto, client: ClientMeta): Promise<TokenGrant | VerificationRequiredDto> {
    // REGISTRATION_ENABLED=false: accounts come from admins only (ADMIN_EMAIL, admin:create).
    if (!this.registrationEnabled) throw new ForbiddenException(REGISTRATION_DISABLED);
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      const created = await this.prisma.$transaction(async (tx) => {
        const user = await this.users.create(tx, { email: dto.email, passwordHash, name: dto.name ?? null });
        await this.recovery.issueVerification(tx, user);
        if (this.requireVerifiedEmail) {
          await this.audit.record(tx, { type: 'user.registered', userId: user.id, client });
          return { user };
        }
        // A registration proved the password it chose: its first session is a password sign-in's.
        const grant = await this.rotation.open(tx, user, client, PASSWORD_FACTS);
        await this.audit.record(tx, { type: 'user.registered', userId: user.id, sessionId: grant.session.id, client });
        return grant;
      });
      if ('session' in created) return this.respond(created);
      return { user: UserDto.from(created.user), verificationRequired: true };
    } catch (error) {
      if (isEmailTaken(error)) throw new ConflictException(EMAIL_TAKEN);
      throw error;
    }
  }

  /**
   * POST /auth/login after LocalStrategy proved the password (or a provider's callback,
   * src/auth/oidc): the sign-in pipeline decides (src/auth/sign-in), then the token
   * response, or the further step it wants.
   */
  async login(facts: SignInFacts, client: ClientMeta, details?: AuditEntry['data']): Promise<TokenGrant | MfaRequiredDto> {
    const outcome = await this.signIn.complete(facts, client, details);
    if ('mfaRequired' in outcome) return outcome;
    // auth_logins_total{outcome="succeeded"} counts completed sign-ins: a session opened.
    this.metrics.login('succeeded');
    return this.respond(outcome);
  }

  /**
   * A sign-in whose proof is checked in the session's transaction (a passkey's assertion,
   * SignInService.completeWith): then the token response, or the further step wanted.
   */
  async loginWith(
    prove: (tx: Tx) => Promise<SignInFacts | { failed: string | null }>,
    failed: (userId: string | null) => Error,
    client: ClientMeta,
  ): Promise<TokenGrant | MfaRequiredDto> {
    try {
      const outcome = await this.signIn.completeWith(prove, failed, client);
      if ('mfaRequired' in outcome) return outcome;
      this.metrics.login('succeeded');
      return this.respond(outcome);
    } catch (error) {
      if (error instanceof UnauthorizedException) this.metrics.login('failed');
      throw error;
    }
  }

  /** POST /auth/login/mfa: the pending sign-in's further step (SignInService.completeStep). */
  async loginStep(dto: LoginMfaDto, client: ClientMeta): Promise<TokenGrant> {
    try {
      const proof = dto.method === 'passkey' ? { challengeId: dto.challengeId!, response: dto.response! } : dto.code!;
      const grant = this.respond(await this.signIn.completeStep(dto.mfaToken, dto.method, proof, client));
      this.metrics.login('succeeded');
      return grant;
    } catch (error) {
      if (error instanceof UnauthorizedException) this.metrics.login('failed');
      throw error;
    }
  }

  async refresh(refreshToken: string, client: ClientMeta): Promise<TokenGrant> {
    return this.respond(await this.rotation.rotate(refreshToken, client));
  }

  /** RFC 7009: ends the session of a refresh token if there is one; silent either way. */
  /**
   * RFC 7009. A refresh token ends its session. So does an access token that is valid
   * now: RFC 7009 §2.1 lets the server revoke the refresh token with it, and ours is bound
   * to its session, so ending the session is the one way to make the access token itself
   * stop at once; it is what POST /auth/logout does with that token, so its holder gains
   * no power. Anything else (not ours, expired, already revoked) changes nothing.
   */
  async revoke(token: string, client: ClientMeta): Promise<void> {
    const session = await this.sessionOf(token);
    if (session) await this.endings.endOne(session, { actorId: session.userId, reason: 'REVOKED', client });
  }

  /** The session a refresh token or a valid access token belongs to, if any. */
  private async sessionOf(token: string): Promise<{ id: string; userId: string } | null> {
    if (this.refreshTokens.isWellFormed(token)) return this.sessions.findByRefreshHash(this.refreshTokens.hash(token));
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const verification = this.accessTokens.verify(token);
    return verification.ok ? { id: verification.token.facts.sid, userId: verification.token.facts.sub } : null;
  }

  async logout(me: AuthUser, client: ClientMeta): Promise<void> {
    await this.endings.endOne({ id: me.sessionId, userId: me.id }, { actorId: me.id, reason: 'LOGOUT', client });
  }

  async logoutAll(me: AuthUser, client: ClientMeta): Promise<void> {
    await this.revocation.transaction(async (tx, revoke) => {
      const sessionsEnded = await this.endings.endAllOfUser(tx, revoke, me.id, 'LOGOUT_ALL');
      await this.audit.record(tx, {
        type: 'user.logged_out_everywhere',
        userId: me.id,
        actorId: me.id,
        sessionId: me.sessionId,
        client,
        data: { sessionsEnded },
      });
    });
  }

  /**
   * POST /auth/password. A stolen access token alone cannot change the password: the
   * current one is required. The other sessions end (someone who knew the old password
   * may hold one); the caller's session and access token keep working, so
   * refreshTokenVersion is left alone and only the other sessions are declared ended.
   */
  async changePassword(me: AuthUser, dto: ChangePasswordDto, client: ClientMeta): Promise<void> {
    const current = await this.users.passwordHashOf(me.id);
    if (!current || !(await this.passwords.verify(current, dto.currentPassword))) {
      throw new UnauthorizedException(CURRENT_PASSWORD_INCORRECT);
    }
    const passwordHash = await this.passwords.hash(dto.newPassword);
    await this.revocation.transaction(async (tx, revoke) => {
      // Compare-and-set on the hash just verified: of two concurrent changes that both
      // knew the old password, the second finds it gone and is refused (rolled back).
      if (!(await this.users.replacePasswordHash(tx, me.id, current, passwordHash))) {
        throw new UnauthorizedException(CURRENT_PASSWORD_INCORRECT);
      }
      const ended = await this.endings.endMany(tx, revoke, { userId: me.id, exceptId: me.sessionId }, 'PASSWORD_CHANGED');
      // A reset link mailed before the change must not undo it.
      await this.accountTokens.voidAll(tx, me.id, 'PASSWORD_RESET');
      const data = { otherSessionsEnded: ended.length };
      await this.audit.record(tx, { type: 'password.changed', userId: me.id, actorId: me.id, sessionId: me.sessionId, client, data });
    });
  }

  async me(me: AuthUser): Promise<UserDto> {
    const user = await this.profiles.me(me.id, me.role);
    if (!user) throw new UnauthorizedException();
    return user;
  }

  /** The token response of a session just opened (here, or by an accepted invitation). */
  respond({ session, user, refreshToken }: SessionGrant): TokenGrant {
    this.profiles.remember(user);
    const accessToken = this.accessTokens.sign({
      userId: user.id,
      sessionId: session.id,
      tokenVersion: user.refreshTokenVersion,
      role: user.role,
      // The session's sign-in facts: a refresh carries them over, it is not an authentication.
      authTime: session.authTime,
      amr: session.amr,
      acr: session.acr as Acr,
    });
    const response = {
      accessToken,
      refreshToken,
      tokenType: 'Bearer' as const,
      expiresIn: this.accessTokens.ttl,
      sessionId: session.id,
      user: UserDto.from(user),
    };
    return { response, sessionExpiresAt: session.absoluteExpiresAt };
  }
}
