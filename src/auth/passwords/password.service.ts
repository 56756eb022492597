import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import * as argon2 from 'argon2';
import { ARGON2_DEFAULTS, type Argon2Cost } from '../../config/argon2';
import { HashingGate } from './hashing-gate';

/** Injection token of the argon2 cost (AuthModule provides the configured one). */
export const ARGON2_COST = Symbol('ARGON2_COST');

/**
 * argon2id, by default at OWASP's minimum (19 MiB, 2 passes, 1 lane; see
 * config/argon2.ts). The `argon2` package hashes on libuv's thread pool, off the
 * event loop, and the HashingGate bounds how much of it runs at once. Passwords are never
 * truncated (argon2 takes any length; the DTOs cap them at 256 characters).
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash!: string;
  private readonly options: { type: typeof argon2.argon2id; memoryCost: number; timeCost: number; parallelism: number };
  readonly gate = new HashingGate();

  constructor(@Optional() @Inject(ARGON2_COST) cost: Argon2Cost = ARGON2_DEFAULTS) {
    this.options = { type: argon2.argon2id, memoryCost: cost.memoryCost, timeCost: cost.timeCost, parallelism: 1 };
  }

  async onModuleInit(): Promise<void> {
    // A hash with the same parameters as real ones: checking a login for an unknown
    // email against it costs as much as a real check, so the response time does not
    // tell whether the email exists.
    // Through the gate, so that it knows what one computation costs before the first burst.
    this.dummyHash = await this.gate.run('hash', () => argon2.hash('not-a-real-password-' + Math.random(), this.options));
  }

  hash(password: string): Promise<string> {
    return this.gate.run('hash', () => argon2.hash(password, this.options));
  }

  /** Verifies `password` against `hash`, or against a dummy hash when there is no user:
   * the same work either way. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    return this.gate.run('verify', async () => {
      try {
        const ok = await argon2.verify(hash ?? this.dummyHash, password);
        return ok && hash !== undefined;
      } catch {
        return false;
      }
    });
  }
}
