import type { Context } from 'aws-lambda';
import type { ClaimResult } from '../domain/fanout/coalescing';
import { onFirstCall } from '../platform/onFirstCall';
import { instrumented } from '../platform/powertools';
import { fanoutStore, leaseSweep } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';
import { type CycleInput, type PostReport, runCycleStep } from './cycle';
import { noteUnreached, type UnreachedInput } from './handOver';
import { sweepStrandedRooms } from './sweep';
import type { PageStep } from './timeBound';

/**
 * Deliver: every step of the fan-out state machine that is code (statemachines/fanout.asl.json): a room's cycle and
 * the posts of any event (cycle.ts), the hand-offs of what a post still owes (handOver.ts), and the scheduled sweep
 * of leases left behind (sweep.ts).
 */
export { GIVE_UP_MS, STOP_POSTING_MS } from './timing';

/** The scheduled sweep's input (template.yaml, SweepStrandedRooms). */
export interface SweepInput {
  op: 'sweep';
}

/** What the sweep and a failed repost's resync notes need: the rooms' fan-out state and the chat bus. */
const roomDeps = onFirstCall(() => ({
  sweep: leaseSweep(),
  store: fanoutStore(),
  publisher: eventPublisher(),
  now: Date.now,
  random: Math.random,
}));

const instrumentedHandler = instrumented(
  async (
    input: CycleInput | SweepInput | UnreachedInput,
    context?: Context,
  ): Promise<ClaimResult | PostReport | PageStep | { recovered: number } | { resyncs: number }> => {
    if (input?.op === 'sweep') return sweepStrandedRooms(roomDeps());
    if (input?.op === 'unreached') return noteUnreached(roomDeps(), input);
    if (typeof input?.op !== 'string')
      throw new TypeError('Deliver expects a fan-out step: { op, roomId, ... }');
    return runCycleStep(input, context);
  },
);

export function handler(input: CycleInput, context?: Context): Promise<ClaimResult | PostReport | PageStep>;
export function handler(input: SweepInput, context?: Context): Promise<{ recovered: number }>;
export function handler(input: UnreachedInput, context?: Context): Promise<{ resyncs: number }>;
export function handler(
  input: CycleInput | SweepInput | UnreachedInput,
  context?: Context,
): Promise<ClaimResult | PostReport | PageStep | { recovered: number } | { resyncs: number }> {
  return instrumentedHandler(input, context);
}
