import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuditService, type AuditEntry } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { PrismaService } from '../../database/prisma.service';
import { UsersRepository } from '../../users/users.repository';
import { SessionRotationService, type SessionGrant } from '../sessions/session-rotation.service';
import type { MfaRequiredDto } from './mfa-required.dto';
import { PendingSignIns } from './pending-sign-ins';
import { SignInMethods } from './sign-in-methods';
import { credentialStamp, LOGIN_FAILED, type SignInFacts } from './sign-in-facts';
import { SignInPolicy } from './sign-in-policy';

/** A rule wants a level that none of the account's methods reaches (see SignInPolicy). */
/** The one message for every failed second step: a wrong, replayed or used code, an expired or burnt mfaToken. */
export const MFA_FAILED = 'Invalid or expired code or mfaToken';

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
    private readonly methods: SignInMethods,
  ) {}

  /**
   * The first factor was checked against a user row read before the argon2 queue; a change
   * committed since (another password, a reset, logout-all, disabling) must not be
   * outlived by this sign-in. So the user's row is locked and the credential compared:
   * either the change committed first and this sign-in is refused, or it waits for this
   * transaction and then ends the session opened here with the others. The policy reads
   * under the same lock. `details` go into the login.succeeded audit event's data.
   */
  complete(facts: SignInFacts, client: ClientMeta, details?: AuditEntry['data']): Promise<SessionGrant | MfaRequiredDto> {
    return this.prisma.$transaction(async (tx) => {
      const user = await this.users.lockForSignIn(tx, facts.userId);
      // Disabled, gone or its credential replaced since the check: the same answer as any failure.
      if (!user || user.disabled || credentialStamp(user) !== facts.credential) throw new UnauthorizedException(LOGIN_FAILED);
      const decision = await this.policy.decide(tx, facts);
      if (decision.next === 'step') return this.pending.start(tx, facts, decision.methods);
      if (decision.next === 'refuse') throw new ForbiddenException(SIGN_IN_LEVEL_UNREACHABLE);
      const opened = await this.rotation.open(tx, user, client, facts);
      // `details`: what the method tells the audit log about itself (another provider: which one).
      await this.audit.record(tx, { type: 'login.succeeded', userId: user.id, sessionId: opened.session.id, client, ...(details && { data: details }) });
      return opened;
    });
  }

  /**
   * POST /auth/login/mfa: the further step of a pending sign-in, as one transaction. The
   * pending row is locked (two attempts with one mfaToken go one after the other), the
   * user's row too, and the credential compared, as for the first step: a password change,
   * reset or logout-all that committed since refuses it. The method checks the code and
   * writes what it consumes; a wrong code is counted (and the 5th burns the mfaToken),
   * which must commit although the answer is a 401: so failures return, and throw after.
   */
  async completeStep(mfaToken: string, methodName: string, code: string, client: ClientMeta): Promise<SessionGrant> {
    const outcome = await this.prisma.$transaction(async (tx): Promise<SessionGrant | { failed: string | null }> => {
      const pending = await this.pending.lock(tx, mfaToken);
      const method = this.methods.byName(methodName);
      if (!pending || !method?.proveStep || !pending.methods.includes(methodName)) return { failed: pending?.facts.userId ?? null };
      const user = await this.users.lockForSignIn(tx, pending.facts.userId);
      if (!user || user.disabled || credentialStamp(user) !== pending.facts.credential) {
        await this.pending.finish(tx, pending.tokenHash);
        return { failed: pending.facts.userId };
      }
      const facts = await method.proveStep(tx, pending.facts, code);
      if (!facts) {
        await this.pending.fail(tx, pending.tokenHash);
        await this.audit.record(tx, {
          type: 'login.failed',
          userId: user.id,
          client,
          data: { email: user.email, reason: 'wrong_second_factor', method: methodName },
        });
        return { failed: user.id };
      }
      await this.pending.finish(tx, pending.tokenHash);
      // The policy judges the new facts as it judged the first: only "open" opens.
      const decision = await this.policy.decide(tx, facts);
      if (decision.next !== 'open') throw new ForbiddenException(SIGN_IN_LEVEL_UNREACHABLE);
      const opened = await this.rotation.open(tx, user, client, facts);
      await this.audit.record(tx, { type: 'login.succeeded', userId: user.id, sessionId: opened.session.id, client, data: { amr: facts.amr } });
      return opened;
    });
    if ('failed' in outcome) throw new UnauthorizedException(MFA_FAILED);
    return outcome;
  }
}
