import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import type { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { PrismaService } from '../../database/prisma.service';
import type { User } from '../../generated/prisma/client';
import type { UsersRepository } from '../../users/users.repository';
import type { SessionRotationService } from '../sessions/session-rotation.service';
import { credentialStamp, LOGIN_FAILED, type SignInFacts } from './sign-in-facts';
import type { PendingSignIns } from './pending-sign-ins';
import type { SignInMethods } from './sign-in-methods';
import type { SignInDecision, SignInPolicy } from './sign-in-policy';
import { MFA_FAILED, SIGN_IN_LEVEL_UNREACHABLE, SignInService } from './sign-in.service';

const client: ClientMeta = { ip: '203.0.113.7', userAgent: 'spec' };
const tx = { name: 'the sign-in transaction' };
const user = { id: 'user-1', passwordHash: '$argon2id$…', refreshTokenVersion: 3, disabled: false } as User;
const facts: SignInFacts = { userId: user.id, amr: ['pwd'], acr: 'aal1', credential: credentialStamp(user) };
const mfaRequired = { mfaRequired: true as const, mfaToken: 'token', methods: ['totp'], expiresIn: 300 };

/** The pipeline's end with its collaborators faked: the user row as locked, and the policy's decision. */
function signInWith(locked: User | null, decision: SignInDecision) {
  const prisma = { $transaction: jest.fn(async (work: (t: typeof tx) => Promise<unknown>) => work(tx)) };
  const users = { lockForSignIn: jest.fn(async () => locked) };
  const policy = { decide: jest.fn(async () => decision) };
  const pending = { start: jest.fn(async () => mfaRequired) };
  const opened = { session: { id: 'session-1' }, user, refreshToken: 'refresh' };
  const rotation = { open: jest.fn(async () => opened) };
  const audit = { record: jest.fn(async () => undefined) };
  const service = new SignInService(
    prisma as unknown as PrismaService,
    users as unknown as UsersRepository,
    policy as unknown as SignInPolicy,
    pending as unknown as PendingSignIns,
    rotation as unknown as SessionRotationService,
    audit as unknown as AuditService,
    {} as SignInMethods,
  );
  return { service, users, policy, pending, rotation, audit, opened };
}

describe('SignInService.complete', () => {
  it('opens the session with the facts when the policy says so, in the transaction that locked the user, and audits the login', async () => {
    const { service, users, policy, rotation, audit, pending, opened } = signInWith(user, { next: 'open' });
    expect(await service.complete(facts, client)).toBe(opened);
    expect(users.lockForSignIn).toHaveBeenCalledWith(tx, user.id);
    expect(policy.decide).toHaveBeenCalledWith(tx, facts);
    expect(rotation.open).toHaveBeenCalledWith(tx, user, client, facts);
    expect(audit.record).toHaveBeenCalledWith(tx, { type: 'login.succeeded', userId: user.id, sessionId: 'session-1', client });
    expect(pending.start).not.toHaveBeenCalled();
  });

  it('answers mfaRequired and opens nothing when the policy wants a further step', async () => {
    const { service, rotation, audit, pending } = signInWith(user, { next: 'step', acr: 'aal2', methods: ['totp'] });
    expect(await service.complete(facts, client)).toBe(mfaRequired);
    expect(pending.start).toHaveBeenCalledWith(tx, facts, ['totp']);
    expect(rotation.open).not.toHaveBeenCalled();
    expect(audit.record).not.toHaveBeenCalled();
  });

  it('refuses with 403 when the policy demands a level the account cannot reach', async () => {
    const { service, rotation, pending } = signInWith(user, { next: 'refuse', acr: 'aal2' });
    await expect(service.complete(facts, client)).rejects.toThrow(new ForbiddenException(SIGN_IN_LEVEL_UNREACHABLE));
    expect(rotation.open).not.toHaveBeenCalled();
    expect(pending.start).not.toHaveBeenCalled();
  });

  it.each([
    ['gone', null],
    ['disabled since the check', { ...user, disabled: true }],
    ['its password replaced since the check', { ...user, passwordHash: '$argon2id$other' }],
    ['its tokens revoked since the check (logout-all)', { ...user, refreshTokenVersion: 4 }],
  ] as const)('refuses as any failed login, before the policy is asked, when the account is %s', async (_, locked) => {
    const { service, policy, rotation, pending } = signInWith(locked, { next: 'open' });
    await expect(service.complete(facts, client)).rejects.toThrow(new UnauthorizedException(LOGIN_FAILED));
    expect(policy.decide).not.toHaveBeenCalled();
    expect(rotation.open).not.toHaveBeenCalled();
    expect(pending.start).not.toHaveBeenCalled();
  });
});

describe('SignInService.completeStep (POST /auth/login/mfa)', () => {
  const pendingRow = { tokenHash: 'hash', facts, methods: ['totp'] };
  const aal2: SignInFacts = { ...facts, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' };

  /** The second step with its collaborators faked: the pending row, the user as locked, the method's verdict. */
  function stepWith(found: typeof pendingRow | null, locked: User | null, proven: SignInFacts | null) {
    const prisma = { $transaction: jest.fn(async (work: (t: typeof tx) => Promise<unknown>) => work(tx)) };
    const users = { lockForSignIn: jest.fn(async () => locked) };
    const policy = { decide: jest.fn(async () => ({ next: 'open' })) };
    const pending = { lock: jest.fn(async () => found), fail: jest.fn(async () => undefined), finish: jest.fn(async () => undefined) };
    const opened = { session: { id: 'session-2' }, user, refreshToken: 'refresh' };
    const rotation = { open: jest.fn(async () => opened) };
    const audit = { record: jest.fn(async () => undefined) };
    const method = { name: 'totp', proveStep: jest.fn(async () => proven) };
    const methods = { byName: jest.fn((name: string) => (name === 'totp' ? method : undefined)) };
    const service = new SignInService(
      prisma as unknown as PrismaService,
      users as unknown as UsersRepository,
      policy as unknown as SignInPolicy,
      pending as unknown as PendingSignIns,
      rotation as unknown as SessionRotationService,
      audit as unknown as AuditService,
      methods as unknown as SignInMethods,
    );
    return { service, pending, rotation, audit, method, opened, policy };
  }

  it('opens the session with the facts the method proved, after burning the pending sign-in, in one transaction', async () => {
    const { service, pending, rotation, method, opened, policy } = stepWith(pendingRow, user, aal2);
    expect(await service.completeStep('token', 'totp', '123456', client)).toBe(opened);
    expect(method.proveStep).toHaveBeenCalledWith(tx, facts, '123456');
    expect(pending.finish).toHaveBeenCalledWith(tx, 'hash');
    expect(policy.decide).toHaveBeenCalledWith(tx, aal2);
    expect(rotation.open).toHaveBeenCalledWith(tx, user, client, aal2);
  });

  it('counts a wrong code (committed: the failure is returned from the transaction, then thrown) and opens nothing', async () => {
    const { service, pending, rotation, audit } = stepWith(pendingRow, user, null);
    await expect(service.completeStep('token', 'totp', '000000', client)).rejects.toThrow(new UnauthorizedException(MFA_FAILED));
    expect(pending.fail).toHaveBeenCalledWith(tx, 'hash');
    expect(audit.record).toHaveBeenCalledWith(tx, expect.objectContaining({ type: 'login.failed', userId: user.id }));
    expect(rotation.open).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown, expired or burnt mfaToken', null, user],
    ['its password replaced since the first step', pendingRow, { ...user, passwordHash: '$argon2id$other' }],
    ['its account disabled since', pendingRow, { ...user, disabled: true }],
  ] as const)('refuses with the one message, without asking the method, for %s', async (_, found, locked) => {
    const { service, method, rotation } = stepWith(found, locked, aal2);
    await expect(service.completeStep('token', 'totp', '123456', client)).rejects.toThrow(new UnauthorizedException(MFA_FAILED));
    expect(method.proveStep).not.toHaveBeenCalled();
    expect(rotation.open).not.toHaveBeenCalled();
  });

  it('refuses a method this pending sign-in was not offered', async () => {
    const { service, method } = stepWith({ ...pendingRow, methods: ['recovery_code'] }, user, aal2);
    await expect(service.completeStep('token', 'totp', '123456', client)).rejects.toThrow(new UnauthorizedException(MFA_FAILED));
    expect(method.proveStep).not.toHaveBeenCalled();
  });
});
