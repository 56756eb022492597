/**
 * argon2id parameters. The default is OWASP's minimum (19 MiB, 2 passes, 1 lane); the
 * Password Storage Cheat Sheet lists equally strong pairs that trade memory for passes.
 * Anything cheaper is refused at boot outside NODE_ENV=test (see env.schema.ts): the test
 * suite hashes with a few KiB so that each registration costs microseconds, not 40 ms.
 */
export interface Argon2Cost {
  /** KiB. */
  memoryCost: number;
  timeCost: number;
}

export const ARGON2_DEFAULTS: Argon2Cost = { memoryCost: 19_456, timeCost: 2 };

/** OWASP's equivalent argon2id configurations (m in KiB, t passes, p = 1). */
const OWASP_MINIMUMS: readonly Argon2Cost[] = [
  { memoryCost: 47_104, timeCost: 1 },
  { memoryCost: 19_456, timeCost: 2 },
  { memoryCost: 12_288, timeCost: 3 },
  { memoryCost: 9_216, timeCost: 4 },
  { memoryCost: 7_168, timeCost: 5 },
];

/** Whether `cost` is at least as strong as one of OWASP's configurations. */
export function meetsOwaspMinimum(cost: Argon2Cost): boolean {
  return OWASP_MINIMUMS.some((min) => cost.memoryCost >= min.memoryCost && cost.timeCost >= min.timeCost);
}
