/**
 * The room ceiling: the messages a second one room's sends sustain before a sender is answered busy (its send lost
 * too many races or met too many transaction conflicts on the room). Members of one room send at a rising rate,
 * pipelined (a send does not wait for the one before), each step for a few seconds; a step is clean when no send of
 * it got `BUSY`. The ceiling is the highest rate whose step and every slower one were clean.
 */
import { type Members, now, sleep } from './members';
import { round } from './stats';

export interface CeilingStep {
  /** Messages a second asked for. */
  rate: number;
  sent: number;
  acked: number;
  busy: number;
  /** Other refusals (by code) and timeouts: a figure with these is not a clean step either. */
  otherErrors: Record<string, number>;
  /** Acks a second over the step, from its first send to its last answer. */
  ackedPerSecond: number;
  /** Send-to-ack latency. */
  p50AckMs: number;
  p99AckMs: number;
}

export interface CeilingResult {
  steps: CeilingStep[];
  /** The highest rate whose step and every slower one got no `BUSY` and no other error; 0 if the first did. */
  ceilingPerSecond: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

async function step(members: Members, rate: number, seconds: number): Promise<CeilingStep> {
  const count = Math.round(rate * seconds);
  const n = members.size;
  const sends: Promise<void>[] = [];
  const latencies: number[] = [];
  const result: CeilingStep = {
    rate,
    sent: 0,
    acked: 0,
    busy: 0,
    otherErrors: {},
    ackedPerSecond: 0,
    p50AckMs: 0,
    p99AckMs: 0,
  };
  const started = now();
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / rate - now();
    if (wait > 0) await sleep(wait);
    const t0 = now();
    result.sent++;
    sends.push(
      members.send(members.sent++ % n, `ceiling ${rate}/s ${i}`).then(
        () => {
          result.acked++;
          latencies.push(now() - t0);
        },
        (error: Error & { code?: string }) => {
          // A limit met for now is its own code, BUSY (functions/core/errors.ts, Busy).
          if (error.code === 'BUSY') result.busy++;
          else {
            const code = error.code ?? error.message.slice(0, 40);
            result.otherErrors[code] = (result.otherErrors[code] ?? 0) + 1;
          }
        },
      ),
    );
  }
  await Promise.all(sends);
  const sorted = latencies.sort((a, b) => a - b);
  result.ackedPerSecond = round((result.acked * 1000) / (now() - started));
  result.p50AckMs = round(percentile(sorted, 50));
  result.p99AckMs = round(percentile(sorted, 99));
  return result;
}

/** Runs the steps in order, stopping after the first one that got `BUSY` (faster ones only get more). */
export async function runCeiling(
  members: Members,
  rates: number[],
  seconds: number,
  log: (line: string) => void,
) {
  const steps: CeilingStep[] = [];
  let ceilingPerSecond = 0;
  let clean = true;
  for (const rate of rates) {
    const s = await step(members, rate, seconds);
    steps.push(s);
    log(
      `${rate}/s: ${s.acked}/${s.sent} acked (${s.ackedPerSecond}/s), ${s.busy} BUSY, other ${JSON.stringify(s.otherErrors)}, ack p50 ${s.p50AckMs} ms p99 ${s.p99AckMs} ms`,
    );
    clean &&= s.busy === 0 && Object.keys(s.otherErrors).length === 0;
    if (clean) ceilingPerSecond = rate;
    if (s.busy > 0) break;
    await sleep(1000); // the fan-out of the step drains before the next
  }
  return { steps, ceilingPerSecond } satisfies CeilingResult;
}
