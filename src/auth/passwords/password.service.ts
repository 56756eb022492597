import { Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';

/**
 * argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane). The `argon2` package hashes on
 * libuv's thread pool, off the event loop. Passwords are never truncated (argon2 takes
 * any length; the DTOs cap them at 256 characters).
 */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash!: string;

  async onModuleInit(): Promise<void> {
    // A hash with the same parameters as real ones: checking a login for an unknown
    // email against it costs as much as a real check, so the response time does not
    // tell whether the email exists.
    this.dummyHash = await argon2.hash('not-a-real-password-' + Math.random(), ARGON2_OPTIONS);
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_OPTIONS);
  }

  /** Verifies `password` against `hash`, or against a dummy hash when there is no user:
   * the same work either way. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    try {
      const ok = await argon2.verify(hash ?? this.dummyHash, password);
      return ok && hash !== undefined;
    } catch {
      return false;
    }
  }
}
