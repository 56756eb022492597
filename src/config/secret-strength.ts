import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

/**
 * A server secret is a key, not a password: it must come from a random generator. Length
 * alone says nothing (`12345678901234567890123456789012` is 32 bytes and sits in
 * jwt_tool's wordlist), so the secret is scored by zxcvbn, which finds the sequences,
 * repetitions, keyboard walks and dictionary words a cracker tries first.
 *
 * 10^30 guesses (about 100 bits) is the bar: 32 random bytes in base64url score ~10^43,
 * 24 random bytes ~10^32, while every human-made string seen in the attack run scored
 * below 10^13.
 */
export const MIN_SECRET_GUESSES_LOG10 = 30;

export const GENERATE_SECRET_HINT = `node -e "console.log(require('crypto').randomBytes(48).toString('base64url'))"`;

let estimator: ZxcvbnFactory | undefined;

/** Why `secret` is too guessable to sign with, or undefined when it is fine. */
export function secretStrengthProblem(secret: string): string | undefined {
  // Loaded on first use: the dictionaries cost ~100 ms, and only production checks a secret.
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  const { guessesLog10 } = estimator.check(secret);
  if (guessesLog10 >= MIN_SECRET_GUESSES_LOG10) return undefined;
  return `is guessable (patterns or words a cracker tries first, about 10^${Math.floor(guessesLog10)} guesses); generate a random one: ${GENERATE_SECRET_HINT}`;
}
