import { BadRequestException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import { PrismaService } from '../../database/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import type { Tx } from '../../database/tx';
import { MailService } from '../../mail/mail.service';
import { UsersRepository } from '../../users/users.repository';
import type { AuthUser } from '../auth-user';
import { RevocationService } from '../revocation/revocation.service';
import { SessionEndingService } from '../sessions/session-ending.service';
import { PendingSignIns } from '../sign-in/pending-sign-ins';
import { credentialStamp, type SignInFacts } from '../sign-in/sign-in-facts';
import { type Assertion, afterPasskey, credentialIdOf, PasskeyAssertions } from './passkey-assertions';
import { PasskeyDto, type PasskeyRegistrationDto, type WebauthnOptionsDto } from './passkeys.dto';
import { PasskeysRepository } from './passkeys.repository';
import { RelyingParty } from './relying-party';
import { WebauthnChallenges } from './webauthn-challenges';

declare module '../../audit/audit-types' {
  interface AuditTypes {
    /** A passkey registered; data: `{ passkeyId, name, backupEligible }`. */
    'passkey.added': true;
    /** A passkey removed by its owner; data: `{ passkeyId, name, otherSessionsEnded }`. */
    'passkey.removed': true;
  }
}

export const PASSKEY_NOT_FOUND = 'Passkey not found';
const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
export const REGISTRATION_FAILED = 'Passkey registration failed: the answer does not verify, or its challenge is unknown, expired or used';
/** The one message for every failed passkey sign-in (nothing tells an unknown credential from a bad signature). */
export const PASSKEY_SIGN_IN_FAILED = 'Passkey sign-in failed';
export const MFA_TOKEN_INVALID = 'Invalid or expired mfaToken';
const DEFAULT_NAME = 'Passkey';

/**
 * /auth/passkeys (API.md, "Second factors, step-up and passkeys"): registering, listing,
 * renaming and removing a user's passkeys, and the options of every authentication
 * ceremony. A removal ends the user's other sessions in its revocation transaction, like
 * every change to a factor; adding and removing are audited, sent to webhooks and mailed.
 */
@Injectable()
export class PasskeysService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly passkeys: PasskeysRepository,
    private readonly challenges: WebauthnChallenges,
    private readonly assertions: PasskeyAssertions,
    private readonly rp: RelyingParty,
    private readonly users: UsersRepository,
    private readonly pending: PendingSignIns,
    private readonly revocation: RevocationService,
    private readonly endings: SessionEndingService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
  ) {}

  async registrationOptions(me: AuthUser): Promise<WebauthnOptionsDto> {
    const { user, existing } = await this.prisma.$transaction(async (tx) => ({
      user: await this.users.findById(tx, me.id),
      existing: await this.passkeys.credentialsOf(tx, me.id),
    }));
    if (!user) throw new UnauthorizedException();
    const { challengeId, challenge } = await this.challenges.issue('registration', { userId: me.id });
    return { challengeId, options: await this.rp.registrationOptions(user, challenge, existing) };
  }

  /** Verifies the new credential against its challenge (spent either way) and stores it. */
  async register(me: AuthUser, dto: PasskeyRegistrationDto, client: ClientMeta): Promise<PasskeyDto> {
    const outcome = await this.prisma
      .$transaction(async (tx) => {
        const challenge = await this.challenges.take(tx, dto.challengeId, 'registration', { userId: me.id });
        const info = challenge ? await this.rp.verifyRegistration(dto.response, challenge) : null;
        // Registered already (by anyone): refused like any failure, without saying whose.
        if (!info || (await tx.passkey.count({ where: { credentialId: info.credential.id } })) > 0) return null;
        const created = await this.passkeys.create(tx, {
          userId: me.id,
          credentialId: info.credential.id,
          publicKey: new Uint8Array(info.credential.publicKey),
          counter: info.credential.counter,
          transports: info.credential.transports ?? [],
          aaguid: info.aaguid,
          backupEligible: info.credentialDeviceType === 'multiDevice',
          backedUp: info.credentialBackedUp,
          name: dto.name ?? DEFAULT_NAME,
        });
        const data = { passkeyId: created.id, name: created.name, backupEligible: created.backupEligible };
        await this.audit.record(tx, { type: 'passkey.added', userId: me.id, actorId: me.id, sessionId: me.sessionId, client, data });
        await this.notify(tx, me.id, `A passkey ("${created.name}") was added to your account.`);
        return created;
      })
      // The same new credential sent twice at once: the unique index refuses the second, as the count above would have.
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) return null;
        throw error;
      });
    if (!outcome) throw new BadRequestException(REGISTRATION_FAILED);
    return PasskeyDto.from(outcome);
  }

  async list(me: AuthUser): Promise<PasskeyDto[]> {
    return (await this.passkeys.listOf(me.id)).map((row) => PasskeyDto.from(row));
  }

  async rename(me: AuthUser, id: string, name: string): Promise<PasskeyDto> {
    const row = await this.passkeys.rename(me.id, id, name);
    if (!row) throw new NotFoundException(PASSKEY_NOT_FOUND);
    return PasskeyDto.from(row);
  }

  /** Removes a passkey; every other session of the user ends (a session opened with it among them). */
  async remove(me: AuthUser, id: string, client: ClientMeta): Promise<void> {
    await this.revocation.transaction(async (tx, revoke) => {
      const removed = await this.passkeys.remove(tx, me.id, id);
      if (!removed) throw new NotFoundException(PASSKEY_NOT_FOUND);
      const ended = await this.endings.endMany(tx, revoke, { userId: me.id, exceptId: me.sessionId }, 'MFA_CHANGED');
      const data = { passkeyId: removed.id, name: removed.name, otherSessionsEnded: ended.length };
      await this.audit.record(tx, { type: 'passkey.removed', userId: me.id, actorId: me.id, sessionId: me.sessionId, client, data });
      await this.notify(tx, me.id, `A passkey ("${removed.name}") was removed from your account; your other sessions have ended.`);
    });
  }

  /**
   * POST /auth/passkeys/authentication/options. Without a caller: a usernameless sign-in
   * (no credentials listed, user verification required). With a bearer token: a
   * re-authentication of that user (their credentials listed, the challenge bound to them).
   */
  async authenticationOptions(caller: AuthUser | undefined): Promise<WebauthnOptionsDto> {
    if (!caller) {
      const { challengeId, challenge } = await this.challenges.issue('sign-in', {});
      return { challengeId, options: await this.rp.authenticationOptions(challenge, [], 'required') };
    }
    const allow = await this.prisma.$transaction((tx) => this.passkeys.credentialsOf(tx, caller.id));
    const { challengeId, challenge } = await this.challenges.issue('reauthentication', { userId: caller.id });
    return { challengeId, options: await this.rp.authenticationOptions(challenge, allow, 'required') };
  }

  /** POST /auth/login/mfa/passkey-options: only this pending sign-in's user's credentials, the challenge bound to it. */
  async stepOptions(mfaToken: string): Promise<WebauthnOptionsDto> {
    const pending = await this.pending.peek(mfaToken);
    if (!pending?.methods.includes('passkey')) throw new UnauthorizedException(MFA_TOKEN_INVALID);
    const allow = await this.prisma.$transaction((tx) => this.passkeys.credentialsOf(tx, pending.facts.userId));
    const { challengeId, challenge } = await this.challenges.issue('second-step', { userId: pending.facts.userId, pendingSignIn: pending.tokenHash });
    return { challengeId, options: await this.rp.authenticationOptions(challenge, allow, 'preferred') };
  }

  /**
   * The proof of a usernameless sign-in, in the sign-in's transaction (SignInService.completeWith):
   * user verification required; the facts (aal2, `hwk`/`swk`, `user`, `mfa`), or a failure
   * naming the credential's owner when there is one (audited as login.failed).
   */
  async proveSignIn(tx: Tx, assertion: Assertion, client: ClientMeta): Promise<SignInFacts | { failed: string | null }> {
    const passkey = await this.assertions.check(tx, assertion, 'sign-in', {}, true);
    const user = passkey ? await this.users.findById(tx, passkey.userId) : null;
    if (!passkey || !user || user.disabled) {
      const credentialId = credentialIdOf(assertion.response);
      const owner = passkey?.userId ?? (credentialId ? await this.passkeys.ownerOf(tx, credentialId) : undefined);
      const reason = user?.disabled ? 'disabled' : 'passkey_not_verified';
      if (owner) await this.audit.record(tx, { type: 'login.failed', userId: owner, client, data: { reason, method: 'passkey' } });
      return { failed: owner ?? null };
    }
    return afterPasskey({ userId: user.id, amr: [], acr: 'aal1', credential: credentialStamp(user) }, passkey);
  }

  private async notify(tx: Tx, userId: string, what: string): Promise<void> {
    const email = await this.users.emailOf(tx, userId);
    if (email) await this.mail.notify(tx, email, what);
  }
}
