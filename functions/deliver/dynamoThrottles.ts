/** DynamoDB's answers that mean a key or table took more than its share for now (nothing was read or written). */
const THROTTLES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/** How many times a read is tried when DynamoDB keeps throttling it past the SDK's own retries. */
const THROTTLE_TRIES = 6;

/** The pauses between tries (full jitter under 200, 400, 800, 1,000, 1,000 ms: at most 3.4 s), and their clock. */
export interface ThrottlePauses {
  pause: (ms: number) => Promise<void>;
  random: () => number;
}

export const realPauses: ThrottlePauses = {
  pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * Runs a read of the fan-out's own state again when DynamoDB throttled it past the SDK's retries (three attempts, and
 * none once the client's retry quota is spent, which a throttled stretch spends). Prepare's reads of a room's cursor
 * are what keeps a seq from being posted twice (readAhead.ts): given up, they cost every member of the room a
 * duplicate, so they ride out a throttled second or so (a hot partition's refusals come and go) within Deliver's
 * 30 s. Any other failure is thrown at once.
 */
export async function retryingThrottles<T>(
  read: () => Promise<T>,
  pauses: ThrottlePauses = realPauses,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!THROTTLES.has((error as { name?: string } | undefined)?.name ?? '') || attempt >= THROTTLE_TRIES)
        throw error;
      await pauses.pause(pauses.random() * Math.min(1000, 100 * 2 ** attempt));
    }
  }
}
