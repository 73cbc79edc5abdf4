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
