import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import { reaches, type Acr, type SignInFacts } from './sign-in-facts';
import { SignInMethods, SignInRules } from './sign-in-methods';

/**
 * The policy's answer: open the session; first take one of `methods` to reach `acr`; or
 * refuse, when a rule demands a level that none of this user's methods can reach.
 */
export type SignInDecision = { next: 'open' } | { next: 'step'; acr: Acr; methods: string[] } | { next: 'refuse'; acr: Acr };

/**
 * Whether what a sign-in proved suffices to open a session: the one place that decides.
 * The level needed is aal1, raised by any registered rule (SignInRule, e.g. "the user has
 * a confirmed second factor"). Facts below it get a further step, among the methods this
 * user can take (SignInMethods). With no rule registered, as today, every sign-in
 * suffices at aal1.
 *
 * A demand that no method of the user can meet refuses the sign-in rather than open a
 * session below it: a rule and a method that disagree (a bug) fail closed. So a rule
 * demands only what the user can give: MFA_REQUIRED_ROLES for a user without a factor
 * is the routes' business (403, and the user can still enroll), not a sign-in demand.
 */
@Injectable()
export class SignInPolicy {
  constructor(
    private readonly rules: SignInRules,
    private readonly methods: SignInMethods,
  ) {}

  async decide(tx: Tx, facts: SignInFacts): Promise<SignInDecision> {
    let needed: Acr = 'aal1';
    for (const rule of this.rules.rules) {
      const demand = await rule.requires(tx, facts);
      if (demand && !reaches(needed, demand)) needed = demand;
    }
    if (reaches(facts.acr, needed)) return { next: 'open' };
    const methods = await this.methods.offeredAfter(tx, facts);
    return methods.length > 0 ? { next: 'step', acr: needed, methods } : { next: 'refuse', acr: needed };
  }
}
