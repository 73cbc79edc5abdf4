/**
 * What a synchronous caller hears of an invocation's wait here for a free execution environment. On AWS the
 * invocation would have started at once (Lambda scales out; this machine has an environment per core), so a caller
 * whose timeout is AWS's (the gateway's 29 s integration timeout) does not count that wait: it holds its timer while
 * the invocation is `queued` and moves its deadline by the wait once it has `started`. The invocation's own running
 * time still counts, as on AWS.
 */
export interface LocalWait {
  /** The invocation waits for an environment. */
  queued(): void;
  /**
   * It has one, loaded and ready to run, after waiting `waitedMs` (0 when one was free at once): a bundle loading for
   * it in its turn counts as waiting, as this machine's cold start, not AWS's.
   */
  started(waitedMs: number): void;
}
