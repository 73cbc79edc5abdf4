import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Thread priorities on Linux, where a thread's nice value is its own. Anyone may lower a thread's priority (raise
 * its nice value), but raising it back takes CAP_SYS_NICE (root has it) or an RLIMIT_NICE soft limit of at least
 * 20 - niceness; by default a user's is 0 (setpriority(2), getrlimit(2)). Without either, a thread that yielded can
 * never return, so the cloud only yields where it may (docs/PARITY.md, "Local Step Functions on its own thread").
 */

/** CAP_SYS_NICE's bit in /proc/self/status's CapEff (linux/capability.h). */
const CAP_SYS_NICE = 23n;

/** What /proc says of this process, passed in by tests. */
export interface ProcFiles {
  status: string;
  limits: string;
}

/** null: not readable (not Linux, or no /proc). */
function readProc(): ProcFiles | null {
  try {
    return {
      status: readFileSync('/proc/self/status', 'utf8'),
      limits: readFileSync('/proc/self/limits', 'utf8'),
    };
  } catch {
    return null;
  }
}

/** Whether this process may set a thread's nice value down to `niceness` (back up to that priority). */
export function canRaisePriority(niceness = 0, proc: ProcFiles | null = readProc()): boolean {
  if (!proc) return false;
  const capEff = /^CapEff:\s*([0-9a-f]+)$/im.exec(proc.status)?.[1];
  if (capEff && (BigInt(`0x${capEff}`) >> CAP_SYS_NICE) & 1n) return true;
  const soft = /^Max nice priority\s+(\d+|unlimited)/im.exec(proc.limits)?.[1];
  if (soft === undefined) return false;
  return soft === 'unlimited' || 20 - Number(soft) <= niceness;
}

/**
 * Sets the calling thread's nice value (Linux only), and answers whether it did. A refusal (EACCES, out of range)
 * leaves the thread as it was: a priority is never worth a thread.
 */
export function trySetPriority(niceness: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    setPriority(niceness);
    return true;
  } catch {
    return false;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
let pacer: NodeJS.Timeout | undefined;
/** The cycle of `pace`: the thread runs for at most PACE_PERIOD_MS × (1 - share), then sleeps the rest. */
export const PACE_PERIOD_MS = 25;

/**
 * Yields the calling thread's CPU without a nice value, where a lowered priority could not be raised back: every
 * cycle between its tasks the thread sleeps `sleepShare` of PACE_PERIOD_MS (Atomics.wait blocks the thread and uses
 * no CPU). 0 stops. Unlike nice 19 it also sleeps when the CPU is idle: a paced fan-out drains slower while it yields.
 */
export function pace(sleepShare: number): void {
  if (pacer) clearInterval(pacer);
  pacer = undefined;
  if (!(sleepShare > 0)) return;
  const sleepMs = Math.round(PACE_PERIOD_MS * Math.min(sleepShare, 0.95));
  pacer = setInterval(() => Atomics.wait(sleeper, 0, 0, sleepMs), PACE_PERIOD_MS - sleepMs);
  pacer.unref();
}
