import { Controller, Get, HttpCode, Injectable, Module, Post } from '@nestjs/common';
import type { AuthUser } from '../../src/auth/auth-user';
import { CurrentUser } from '../../src/auth/decorators/current-user.decorator';
import { RequiresRecentAuth } from '../../src/auth/decorators/requires-recent-auth.decorator';
import type { SignInFacts } from '../../src/auth/sign-in/sign-in-facts';
import { ProvidesSignInMethod, type SignInMethod } from '../../src/auth/sign-in/sign-in-method';
import type { Tx } from '../../src/database/tx';

/** The users who have this spec's second factor. */
export const enrolled = new Set<string>();
/** Its one right code (a spec's stand-in for a TOTP code). */
export const SPEC_CODE = '123456';

/**
 * A second factor that exists only in these specs: offered to the users in `enrolled`, so
 * step-up sees them as users with a second factor, and able to re-authenticate (with
 * SPEC_CODE), which is how these specs get an aal2 token before TOTP is merged. No sign-in
 * rule: their password sign-in still opens an aal1 session, which is what step-up must refuse.
 */
@ProvidesSignInMethod()
@Injectable()
class SpecOnlyFactor implements SignInMethod {
  readonly name = 'spec_otp';

  async offeredAfter(_tx: Tx, facts: SignInFacts): Promise<boolean> {
    return enrolled.has(facts.userId);
  }

  async reauthenticate(_tx: Tx, facts: SignInFacts, proof: Readonly<Record<string, unknown>>): Promise<SignInFacts | null> {
    if (!enrolled.has(facts.userId) || proof.code !== SPEC_CODE) return null;
    return { ...facts, amr: [...new Set([...facts.amr, 'otp', 'mfa'])], acr: 'aal2' };
  }
}

/** A route marked "recent", as the account-security routes are. */
@Controller('spec')
class SpecRecentController {
  @RequiresRecentAuth()
  @Post('recent')
  @HttpCode(200)
  recent(@CurrentUser() me: AuthUser) {
    return { authTime: me.authTime, amr: me.amr, acr: me.acr };
  }

  /** The caller's facts as the guard left them (request.user). */
  @Get('caller')
  caller(@CurrentUser() me: AuthUser) {
    return me;
  }
}

@Module({ providers: [SpecOnlyFactor], controllers: [SpecRecentController] })
export class SpecStepUpModule {}

export const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
