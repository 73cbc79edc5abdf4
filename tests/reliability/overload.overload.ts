import { type BurstResult, runBurst } from './burst';
import { recordFigures } from './world';

/**
 * Overload without failure: bursts at 2x and 5x the fan-out capacity of the local cloud, with one send in flight per
 * client and with pipelined sends. Every send is answered (an ack, a JSON error frame naming its clientMsgId, or
 * past the 29 s integration timeout the gateway's `Endpoint request timed out`), a client's retries with the same
 * clientMsgId end in an ack, the backlog drains, and no live member loses or gets twice a message; no fan-out
 * execution fails; vanished members are pruned. How fast sends are acked under a local overload says how this
 * machine shares its cores, not how roomcast performs on AWS: it is printed, not asserted.
 * OVERLOAD_SECONDS and OVERLOAD_FACTORS shorten it (CI); OVERLOAD_CAPACITY sets the capacity in messages/s to
 * OVERLOAD_MEMBERS members (docs/PERFORMANCE.md, "Capacity"); OVERLOAD_MODES picks the ways of sending.
 */
const MEMBERS = Number(process.env.OVERLOAD_MEMBERS ?? 100);
// Messages/s to MEMBERS members the local cloud holds (send-to-receive p99 <= 1 s): the default is the figure
// recorded for the idle 2-core development machine (docs/MEASUREMENTS.md); measure yours with npm run capacity.
const CAPACITY = Number(process.env.OVERLOAD_CAPACITY ?? 23.5);
const SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 30);
const FACTORS = (process.env.OVERLOAD_FACTORS ?? '2,5').split(',').map(Number);
const MODES = (process.env.OVERLOAD_MODES ?? 'one in flight,pipelined').split(',') as (
  | 'one in flight'
  | 'pipelined'
)[];
const VANISH = Math.round(MEMBERS * 0.05);
/** Answers a send may get before its ack: retryable error frames and the gateway's timeout. */
const RETRYABLE_ANSWERS = new Set(['BUSY', 'INTERNAL', 'RATE_LIMITED', 'GATEWAY_TIMEOUT']);

// Sending, then a drain that grows with the overload (burst.ts), then the audit.
jest.setTimeout((SECONDS * 11 + 300) * 1000);

const progress = (line: string) =>
  process.stdout.write(`[overload] ${new Date().toISOString().slice(11, 19)} ${line}\n`);

const cases = FACTORS.flatMap((factor) => MODES.map((mode) => [factor, mode] as const));

describe.each(cases)('%d x capacity, %s', (factor, mode) => {
  const rate = CAPACITY * factor;
  let result: BurstResult;

  beforeAll(async () => {
    const parameters = process.env.OVERLOAD_PARAMETERS
      ? Object.fromEntries(
          process.env.OVERLOAD_PARAMETERS.split(',').map((p) => p.split('=') as [string, string]),
        )
      : undefined;
    result = await runBurst({
      members: MEMBERS,
      rate,
      seconds: SECONDS,
      vanish: VANISH,
      mode,
      progress,
      settings: parameters,
    });
    recordFigures(`overload ${factor}x ${mode} (${rate} messages/s x ${MEMBERS} members, ${SECONDS} s)`, {
      ...result,
    });
    progress(
      `acks: ${Math.round(result.ackedWithin2s * 1000) / 10}% within 2 s, p50 ${result.ackP50Ms} ms, p99 ${result.ackP99Ms} ms; first answers ${JSON.stringify(result.firstReplies)}`,
    );
  });

  test(`${rate} messages/s to ${MEMBERS} members for ${SECONDS} s: every send answered, and acked in the end`, () => {
    expect(result.unanswered).toBe(0);
    expect(result.gatewayErrors).toBe(0);
    expect(result.unnamedErrors).toBe(0);
    const other = Object.keys(result.allReplies).filter((k) => k !== 'ack' && !RETRYABLE_ANSWERS.has(k));
    expect(other).toEqual([]);
    expect(result.unacked).toBe(0);
  });

  test('the backlog drains: nothing lost or duplicated, no execution failed, vanished members pruned', () => {
    expect(result.drained).toBe(true);
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
    expect(result.filledByHistory).toBe(0);
    expect(result.failedExecutions).toBe(0);
    expect(result.chunksFailed).toBe(0);
    expect(result.pruned).toBe(VANISH);
  });
});
