import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuditService, type AuditEntry } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { PrismaService } from '../../database/prisma.service';
import { UsersRepository } from '../../users/users.repository';
import { SessionRotationService, type SessionGrant } from '../sessions/session-rotation.service';
import type { MfaRequiredDto } from './mfa-required.dto';
import { PendingSignIns } from './pending-sign-ins';
import { SignInMethods } from './sign-in-methods';
import type { StepProof } from './sign-in-method';
import type { Tx } from '../../database/tx';
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
    return this.prisma.$transaction((tx) => this.decide(tx, facts, client, details));
  }

  /**
   * A sign-in whose proof is checked in the session's own transaction (a passkey's
   * assertion): what the proof consumes (its challenge, the credential's counter) commits
   * with the session, and a credential removed meanwhile is either seen or waited for.
   * `prove` answers the facts, or a failure with what it knows of the account (null: no
   * account named): the failure commits what was consumed, then `failed` answers it.
   */
  async completeWith(
    prove: (tx: Tx) => Promise<SignInFacts | { failed: string | null }>,
    failed: (userId: string | null) => Error,
    client: ClientMeta,
  ): Promise<SessionGrant | MfaRequiredDto> {
    const outcome = await this.prisma.$transaction(async (tx): Promise<SessionGrant | MfaRequiredDto | { failed: string | null }> => {
      const facts = await prove(tx);
      return 'failed' in facts ? facts : this.decide(tx, facts, client);
    });
    if ('failed' in outcome) throw failed(outcome.failed);
    return outcome;
  }

  /** `details`: what the method tells the audit log about itself (another provider: which one). */
  private async decide(tx: Tx, facts: SignInFacts, client: ClientMeta, details?: AuditEntry['data']): Promise<SessionGrant | MfaRequiredDto> {
    const user = await this.users.lockForSignIn(tx, facts.userId);
    // Disabled, gone or its credential replaced since the check: the same answer as any failure.
    if (!user || user.disabled || credentialStamp(user) !== facts.credential) throw new UnauthorizedException(LOGIN_FAILED);
    const decision = await this.policy.decide(tx, facts);
    if (decision.next === 'step') return this.pending.start(tx, facts, decision.methods);
    if (decision.next === 'refuse') throw new ForbiddenException(SIGN_IN_LEVEL_UNREACHABLE);
    const opened = await this.rotation.open(tx, user, client, facts);
    await this.audit.record(tx, {
      type: 'login.succeeded',
      userId: user.id,
      sessionId: opened.session.id,
      client,
      ...((facts.amr[0] !== 'pwd' || details) && { data: { ...(facts.amr[0] !== 'pwd' && { amr: facts.amr }), ...details } }),
    });
    return opened;
  }

  /**
   * POST /auth/login/mfa: the further step of a pending sign-in, as one transaction. The
   * pending row is locked (two attempts with one mfaToken go one after the other), the
   * user's row too, and the credential compared, as for the first step: a password change,
   * reset or logout-all that committed since refuses it. The method checks the code and
   * writes what it consumes; a wrong code is counted (and the 5th burns the mfaToken),
   * which must commit although the answer is a 401: so failures return, and throw after.
   */
  async completeStep(mfaToken: string, methodName: string, proof: StepProof, client: ClientMeta): Promise<SessionGrant> {
    const outcome = await this.prisma.$transaction(async (tx): Promise<SessionGrant | { failed: string | null }> => {
      const pending = await this.pending.lock(tx, mfaToken);
      const method = this.methods.byName(methodName);
      if (!pending || !method?.proveStep || !pending.methods.includes(methodName)) return { failed: pending?.facts.userId ?? null };
      const user = await this.users.lockForSignIn(tx, pending.facts.userId);
      if (!user || user.disabled || credentialStamp(user) !== pending.facts.credential) {
        await this.pending.finish(tx, pending.tokenHash);
        return { failed: pending.facts.userId };
      }
      // An assertion's challenge is bound to this pending sign-in: the method compares them.
      const facts = await method.proveStep(tx, pending.facts, typeof proof === 'string' ? proof : { ...proof, pendingSignIn: pending.tokenHash });
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
