import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { PrismaService } from '../../database/prisma.service';
import { UsersRepository } from '../../users/users.repository';
import { SessionRotationService, type SessionGrant } from '../sessions/session-rotation.service';
import type { MfaRequiredDto } from './mfa-required.dto';
import { PendingSignIns } from './pending-sign-ins';
import { credentialStamp, LOGIN_FAILED, type SignInFacts } from './sign-in-facts';
import { SignInPolicy } from './sign-in-policy';

/** A rule wants a level that none of the account's methods reaches (see SignInPolicy). */
export const SIGN_IN_LEVEL_UNREACHABLE = 'This sign-in needs a further step that the account cannot take';

/**
 * The end of every sign-in: a method proved `facts`; the policy judges them; then either a
 * pending sign-in waits for a further step (no session, no refresh token, no cookie, no
 * device), or the session opens with the facts recorded on it.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly users: UsersRepository,
    private readonly policy: SignInPolicy,
    private readonly pending: PendingSignIns,
    private readonly rotation: SessionRotationService,
    private readonly audit: AuditService,
  ) {}

  /**
   * The first factor was checked against a user row read before the argon2 queue; a change
   * committed since (another password, a reset, logout-all, disabling) must not be
   * outlived by this sign-in. So the user's row is locked and the credential compared:
   * either the change committed first and this sign-in is refused, or it waits for this
   * transaction and then ends the session opened here with the others. The policy reads
   * under the same lock.
   */
  complete(facts: SignInFacts, client: ClientMeta): Promise<SessionGrant | MfaRequiredDto> {
    return this.prisma.$transaction(async (tx) => {
      const user = await this.users.lockForSignIn(tx, facts.userId);
      // Disabled, gone or its credential replaced since the check: the same answer as any failure.
      if (!user || user.disabled || credentialStamp(user) !== facts.credential) throw new UnauthorizedException(LOGIN_FAILED);
      const decision = await this.policy.decide(tx, facts);
      if (decision.next === 'step') return this.pending.start(tx, facts, decision.methods);
      if (decision.next === 'refuse') throw new ForbiddenException(SIGN_IN_LEVEL_UNREACHABLE);
      const opened = await this.rotation.open(tx, user, client, facts);
      await this.audit.record(tx, { type: 'login.succeeded', userId: user.id, sessionId: opened.session.id, client });
      return opened;
    });
  }
}
