export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns true: every `everyMs`, at most `attempts` times (a bound,
 * not a performance threshold: the default allows 30 s for something that takes well
 * under a second). Throws, naming what was awaited, when it never happens.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, { attempts = 300, everyMs = 100 } = {}) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await sleep(everyMs);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** `promise`'s value, or `message` once `ms` have passed without it (a bound for liveness, not a speed check). */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<string>((resolve) => (timer = setTimeout(() => resolve(message), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
