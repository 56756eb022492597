import { BadRequestException, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import { PrismaService } from '../../database/prisma.service';
import { UsersRepository } from '../../users/users.repository';
import type { AuthUser } from '../auth-user';
import type { SessionFacts } from '../sessions/session-rotation.service';
import { SessionsRepository } from '../sessions/sessions.repository';
import { PASSWORD_FACTS, PasswordMethod } from '../sign-in/password/password.method';
import { credentialStamp } from '../sign-in/sign-in-facts';
import { SignInMethods } from '../sign-in/sign-in-methods';
import { AccessTokens } from '../tokens/access-token';
import { InsufficientUserAuthentication } from './insufficient-authentication';
import type { ReauthenticateDto, ReauthenticatedDto } from './reauthenticate.dto';
import { SecondFactors } from './second-factors';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    /** POST /auth/reauthenticate: the session's auth_time is now; data: `{ method, amr, acr }`. */
    'user.reauthenticated': true;
  }
}

export const PASSWORD_INCORRECT = 'Password is incorrect';
/** One message for a wrong, replayed or used proof of a second factor. */
export const PROOF_INCORRECT = 'Invalid or already used code';
export const SESSION_ENDED = 'Session has ended';

/**
 * POST /auth/reauthenticate: the caller proves a method again, and its session (the same
 * `sid`) gets `auth_time` now and the amr/acr proven, on its row, so refreshes carry them.
 * The password is the method of a user with no second factor; a user with one must give
 * it: `method` names a registered SignInMethod that implements `reauthenticate`.
 */
@Injectable()
export class ReauthenticationService {
  private readonly maxAge: number;

  constructor(
    private readonly prisma: PrismaService,
    private readonly users: UsersRepository,
    private readonly password: PasswordMethod,
    private readonly sessions: SessionsRepository,
    private readonly methods: SignInMethods,
    private readonly secondFactors: SecondFactors,
    private readonly accessTokens: AccessTokens,
    private readonly audit: AuditService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.maxAge = config.get('auth.reauthMaxAge', { infer: true });
  }

  async reauthenticate(me: AuthUser, dto: ReauthenticateDto, client: ClientMeta): Promise<ReauthenticatedDto> {
    const method = dto.method ?? 'password';
    const other = method === 'password' ? undefined : this.methods.byName(method);
    if (method !== 'password' && !other?.reauthenticate) throw new BadRequestException([`method must be one of: ${this.knownMethods().join(', ')}`]);
    let verifiedHash: string | undefined;
    if (method === 'password') {
      if (dto.password === undefined) throw new BadRequestException(['password is required']);
      // A user with a second factor must give it: told before argon2 is spent on the password.
      if (await this.prisma.$transaction((tx) => this.secondFactors.has(tx, me.id))) throw this.secondFactorChallenge();
      const proved = await this.password.proveAgain(me.id, dto.password);
      if (proved === null) throw new UnauthorizedException(PASSWORD_INCORRECT);
      verifiedHash = proved;
    }
    return this.prisma.$transaction(async (tx) => {
      // Shared lock on the user: a factor enrolled, or a password changed, meanwhile is seen here or waits.
      const user = await this.users.lockForSignIn(tx, me.id);
      if (!user || user.disabled) throw new UnauthorizedException(SESSION_ENDED);
      let facts: SessionFacts;
      if (verifiedHash !== undefined) {
        if (user.passwordHash !== verifiedHash) throw new UnauthorizedException(PASSWORD_INCORRECT);
        if (await this.secondFactors.has(tx, me.id)) throw this.secondFactorChallenge();
        facts = { amr: [...PASSWORD_FACTS.amr], acr: PASSWORD_FACTS.acr };
      } else {
        // What the session proved so far is the base: the method adds what it proves now.
        const base = { userId: me.id, amr: [...me.amr], acr: me.acr, credential: credentialStamp(user) };
        const proven = await other!.reauthenticate!(tx, base, dto as unknown as Record<string, unknown>);
        if (!proven) throw new UnauthorizedException(PROOF_INCORRECT);
        facts = { amr: proven.amr, acr: proven.acr };
      }
      const renewed = await this.sessions.reauthenticate(tx, { sessionId: me.sessionId, userId: me.id, tokenVersion: me.tokenVersion }, facts);
      if (!renewed) throw new UnauthorizedException(SESSION_ENDED);
      await this.audit.record(tx, {
        type: 'user.reauthenticated',
        userId: me.id,
        actorId: me.id,
        sessionId: me.sessionId,
        client,
        data: { method, amr: facts.amr, acr: facts.acr },
      });
      const accessToken = this.accessTokens.sign({
        userId: me.id,
        sessionId: me.sessionId,
        tokenVersion: me.tokenVersion,
        role: renewed.role,
        authTime: renewed.authTime,
        amr: facts.amr,
        acr: facts.acr,
      });
      return { accessToken, tokenType: 'Bearer' as const, expiresIn: this.accessTokens.ttl };
    });
  }

  /** RFC 9470's challenge for a level that is missing. */
  private secondFactorChallenge(): InsufficientUserAuthentication {
    return new InsufficientUserAuthentication({ maxAge: this.maxAge, acr: 'aal2' });
  }

  /** Sorted: the message stays the same whatever order the modules register their methods in. */
  private knownMethods(): string[] {
    const others = this.methods.all().filter((m) => m.reauthenticate !== undefined);
    return ['password', ...others.map((m) => m.name)].sort();
  }
}
