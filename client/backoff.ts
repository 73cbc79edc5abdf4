import { RoomcastError } from './errors';

export interface BackoffPolicy {
  /** Ceiling of the first delay. Default 500 ms. */
  initialDelayMs: number;
  /** Ceiling of any delay. Default 15 s. */
  maxDelayMs: number;
  /** Reconnects in a row before giving up (state `failed`; `retry()` starts again). Default 12. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 15_000, maxAttempts: 12 };

/**
 * "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniformly random delay between 0 and
 * the exponential ceiling, so clients dropped together do not come back together.
 */
export function fullJitterDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** Waits and randomness for retries; tests pass their own. */
export interface RetryClock {
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const REAL_CLOCK: RetryClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * Runs `request`, and again after a full-jitter wait while it fails with a RoomcastError whose code is in `codes`,
 * at most `policy.maxAttempts` times in all; the last failure is thrown. For requests that are safe to repeat.
 */
export async function retrying<T>(
  request: () => Promise<T>,
  policy: BackoffPolicy,
  codes: ReadonlySet<string>,
  clock: RetryClock = REAL_CLOCK,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      const again = error instanceof RoomcastError && codes.has(error.code) && attempt < policy.maxAttempts;
      if (!again) throw error;
      await clock.sleep(fullJitterDelay(policy, attempt - 1, clock.random));
    }
  }
}
