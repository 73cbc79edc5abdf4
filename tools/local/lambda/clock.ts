/**
 * Tests only, never AWS's timing: a clock the functions' sandboxes read instead of the machine's, which stands still
 * at the instant a test sets and moves only when the test moves it. A rule the functions keep by the time of day (a
 * strike window, a frame window, a token bucket's refill) is then decided by the test's steps, not by how fast a
 * loaded machine runs them: a fixed window cannot end between two frames the test means to put in one.
 *
 * In a sandbox, `Date.now()` and `new Date()` (and `Date()`) read the clock; `new Date(value)`, `performance.now()`
 * and the timers keep their meaning, and so does the invocation's `getRemainingTimeInMillis` (the worker times it on
 * the machine's clock). Everything the functions time by the date stands still with it: a fence's 1.5 s, a lease, the
 * settings document's cache (the functions keep the document they first read until the clock passes its age). The
 * SDK signs with the clock's time, and the local services refuse a signature more than 15 minutes from theirs, as
 * AWS does: a test keeps the clock within minutes of the machine's. Absent (as for `npm start`, the benchmark and the
 * fault runs), the sandboxes read the machine's clock.
 */
export class LambdaTestClock {
  /** Shared with every sandbox (SandboxConfig.clock): the clock's epoch milliseconds. */
  readonly buffer = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
  private readonly cell = new BigInt64Array(this.buffer);

  constructor(startMs = Date.now()) {
    this.set(startMs);
  }

  /** The sandboxes' time now (epoch ms). */
  now(): number {
    return Number(Atomics.load(this.cell, 0));
  }

  /** Sets the sandboxes' time (epoch ms, a whole number); later invocations, and those running, read it at once. */
  set(ms: number): void {
    if (!Number.isSafeInteger(ms))
      throw new Error(`the Lambda test clock takes whole milliseconds, not ${ms}`);
    Atomics.store(this.cell, 0, BigInt(ms));
  }

  /** Moves the sandboxes' time on by `ms` (never back: a clock that goes back is no clock the functions expect). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`the Lambda test clock only moves forward, not by ${ms}`);
    this.set(this.now() + ms);
  }
}

/**
 * In a sandbox's thread, before its bundle loads: makes `Date` read the shared clock `buffer`. Returns the machine's
 * `Date.now`, for what the sandbox itself times (an invocation's deadline).
 */
export function installSandboxClock(buffer: SharedArrayBuffer): () => number {
  const cell = new BigInt64Array(buffer);
  const RealDate = Date;
  const machineNow = RealDate.now.bind(RealDate);
  const now = () => Number(Atomics.load(cell, 0));
  // A function, not a class: `Date()` without `new` answers a string, as the real one does.
  const SandboxDate = function (this: unknown, ...args: unknown[]) {
    if (!new.target) return new RealDate(now()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [now()] : args, new.target);
  } as unknown as DateConstructor;
  Object.defineProperties(SandboxDate, {
    prototype: { value: RealDate.prototype },
    now: { value: now, writable: true, configurable: true },
    parse: { value: RealDate.parse, writable: true, configurable: true },
    UTC: { value: RealDate.UTC, writable: true, configurable: true },
  });
  globalThis.Date = SandboxDate;
  return machineNow;
}
