import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import type { SessionFacts } from '../sessions/session-rotation.service';
import { ProvidesSignInMethod, type SignInMethod } from '../sign-in/sign-in-method';
import { IdentitiesRepository } from './identities.repository';

/**
 * The ID token's own word that the provider did multi-factor authentication: RFC 8176 `mfa`
 * in `amr`, or an `acr` that names a multi-factor level (NIST's aal2/aal3, the PAPE
 * multi-factor policy). Anything else, or nothing (Google sends neither), is one factor.
 */
const MFA_ACRS = new Set([
  'aal2',
  'aal3',
  'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
  'http://schemas.openid.net/pape/policies/2007/06/multi-factor-physical',
]);

export function providerDidMfa(idToken: Readonly<Record<string, unknown>>): boolean {
  return (Array.isArray(idToken.amr) && idToken.amr.includes('mfa')) || (typeof idToken.acr === 'string' && MFA_ACRS.has(idToken.acr));
}

/** What a sign-in at another provider proves (RFC 8176 `fed`): aal1, or aal2 when its ID token says it did MFA. */
export function federatedFacts(mfa: boolean): SessionFacts {
  return mfa ? { amr: ['fed', 'mfa'], acr: 'aal2' } : { amr: ['fed'], acr: 'aal1' };
}

/**
 * Another provider as a first factor (src/auth/oidc): its callback yields the facts, the
 * pipeline decides as for a password (a user with a second factor still gives it). It is
 * never a further step, and cannot re-authenticate a session (its proof is a browser
 * round trip, not a request body): a user without a password signs in again instead.
 */
@ProvidesSignInMethod()
@Injectable()
export class OidcMethod implements SignInMethod {
  readonly name = 'oidc';

  constructor(private readonly identities: IdentitiesRepository) {}

  async signsInAlone(tx: Tx, userId: string): Promise<boolean> {
    return (await this.identities.countOf(tx, userId)) > 0;
  }
}
