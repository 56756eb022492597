import { Injectable, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Tx } from '../../database/tx';
import type { Acr, SignInFacts } from './sign-in-facts';
import { ProvidesSignInMethod, ProvidesSignInRule, type SignInMethod, type SignInRule } from './sign-in-method';
import { SignInMethods, SignInRules } from './sign-in-methods';
import { SignInPolicy } from './sign-in-policy';

const tx = { name: 'the sign-in transaction' } as unknown as Tx;
const password: SignInFacts = { userId: 'u1', amr: ['pwd'], acr: 'aal1', credential: 'stamp' };

/** A rule demanding `acr` of the users listed (null for everyone else). */
const rule = (acr: Acr | null, users = ['u1']): SignInRule => ({ requires: jest.fn(async (_tx, facts) => (users.includes(facts.userId) ? acr : null)) });

/** The policy over these rules, and these method names offered to every user. */
function policyWith(rules: SignInRule[], offered: string[] = []) {
  const methods = { offeredAfter: jest.fn(async () => offered) };
  const policy = new SignInPolicy({ rules } as unknown as SignInRules, methods as unknown as SignInMethods);
  return { policy, methods };
}

describe('SignInPolicy', () => {
  it('opens the session at aal1 when no rule is registered (today), without asking any method', async () => {
    const { policy, methods } = policyWith([], ['totp']);
    expect(await policy.decide(tx, password)).toEqual({ next: 'open' });
    expect(methods.offeredAfter).not.toHaveBeenCalled();
  });

  it('asks for a further step, among the methods this user can take, when a rule demands more than the facts reach', async () => {
    const demanding = rule('aal2');
    const { policy, methods } = policyWith([demanding], ['totp', 'passkey']);
    expect(await policy.decide(tx, password)).toEqual({ next: 'step', acr: 'aal2', methods: ['totp', 'passkey'] });
    // Rules and methods read in the sign-in's transaction (the user's row is locked there).
    expect(demanding.requires).toHaveBeenCalledWith(tx, password);
    expect(methods.offeredAfter).toHaveBeenCalledWith(tx, password);
  });

  it('opens the session when the facts reach the demand already', async () => {
    const { policy } = policyWith([rule('aal2')], ['totp']);
    expect(await policy.decide(tx, { ...password, amr: ['hwk', 'user', 'mfa'], acr: 'aal2' })).toEqual({ next: 'open' });
  });

  it('applies a rule only to whom it concerns: another user opens at aal1', async () => {
    const { policy } = policyWith([rule('aal2', ['u2'])], ['totp']);
    expect(await policy.decide(tx, password)).toEqual({ next: 'open' });
    expect(await policy.decide(tx, { ...password, userId: 'u2' })).toEqual({ next: 'step', acr: 'aal2', methods: ['totp'] });
  });

  it('takes the highest demand of all rules; a lower one or none never lowers it', async () => {
    const { policy } = policyWith([rule(null), rule('aal2'), rule('aal1')], ['totp']);
    expect(await policy.decide(tx, password)).toEqual({ next: 'step', acr: 'aal2', methods: ['totp'] });
  });

  it('refuses, rather than open a session below the demand, when no method of the user can meet it (fails closed)', async () => {
    const { policy } = policyWith([rule('aal2')], []);
    expect(await policy.decide(tx, password)).toEqual({ next: 'refuse', acr: 'aal2' });
  });
});

/** Users who have the fake factors below. */
const hasOtp = new Set(['u1']);

@ProvidesSignInMethod()
@Injectable()
class FirstFactor implements SignInMethod {
  readonly name = 'first';
}

@ProvidesSignInMethod()
@Injectable()
class FakeOtp implements SignInMethod {
  readonly name = 'otp';
  async offeredAfter(_tx: Tx, facts: SignInFacts) {
    return hasOtp.has(facts.userId);
  }
}

@ProvidesSignInMethod()
@Injectable()
class FakeKey implements SignInMethod {
  readonly name = 'key';
  async offeredAfter() {
    return true;
  }
}

@ProvidesSignInRule()
@Injectable()
class FakeRule implements SignInRule {
  async requires() {
    return 'aal2' as const;
  }
}

/** The feature's own module, as a method's folder would bring it. */
@Module({ providers: [FakeKey, FakeRule] })
class FeatureModule {}

async function registries(...extra: Array<new (...args: never[]) => unknown>) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule, FeatureModule],
    providers: [SignInMethods, SignInRules, SignInPolicy, FirstFactor, FakeOtp, ...extra],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('SignInMethods and SignInRules: registered by their decorators, in any mounted module', () => {
  it('finds every method and rule, and offers only the further steps this user has (never a first factor)', async () => {
    const moduleRef = await registries();
    const methods = moduleRef.get(SignInMethods);
    expect(methods.byName('first')).toBeInstanceOf(FirstFactor);
    expect(methods.byName('key')).toBeInstanceOf(FakeKey);
    expect(methods.byName('nope')).toBeUndefined();
    expect((await methods.offeredAfter(tx, password)).sort()).toEqual(['key', 'otp']);
    expect(await methods.offeredAfter(tx, { ...password, userId: 'u2' })).toEqual(['key']);
    expect(moduleRef.get(SignInRules).rules).toEqual([expect.any(FakeRule)]);
    // The policy sees them: the feature's rule demands aal2, its methods are offered.
    expect(await moduleRef.get(SignInPolicy).decide(tx, { ...password, userId: 'u2' })).toEqual({ next: 'step', acr: 'aal2', methods: ['key'] });
    await moduleRef.close();
  });

  it('refuses to start with two methods of one name (a client could not choose between them)', async () => {
    @ProvidesSignInMethod()
    @Injectable()
    class AnotherOtp implements SignInMethod {
      readonly name = 'otp';
    }
    await expect(registries(AnotherOtp)).rejects.toThrow('Two sign-in methods are named "otp"');
  });
});
