import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import { SignInMethods } from '../sign-in/sign-in-methods';

/** The method every account has: not a second factor. */
const FIRST_FACTOR = 'password';

/**
 * Whether a user has a second factor: some registered sign-in method other than the
 * password is offered to them after a password (`offeredAfter`). Nothing here names TOTP
 * or passkeys: the methods that say so are found at start, wherever they are mounted.
 */
@Injectable()
export class SecondFactors {
  constructor(private readonly methods: SignInMethods) {}

  async of(tx: Tx, userId: string): Promise<string[]> {
    const offered = await this.methods.offeredAfter(tx, { userId, amr: ['pwd'], acr: 'aal1', credential: '' });
    return offered.filter((name) => name !== FIRST_FACTOR);
  }

  async has(tx: Tx, userId: string): Promise<boolean> {
    return (await this.of(tx, userId)).length > 0;
  }
}
