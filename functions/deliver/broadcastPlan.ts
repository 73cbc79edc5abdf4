import type { Frame } from './coalescing';
import { everyoneFrames } from './prepare';

/**
 * Plan: the first step of the everyone-broadcast's state machine (statemachines/broadcast.asl.json). A broadcast to
 * every connection reads the whole connections table, which grows with the crowd, so it is read in parallel
 * segments (Scan's `Segment` of `TotalSegments`) and under a deadline: a segment that still has pages when the
 * deadline has passed stops there and the execution ends as `Broadcast.GaveUp`, counted (`BroadcastGaveUp`) and
 * alarmed, instead of running into Express's 5-minute limit with nothing said about how far it got.
 */
export interface BroadcastPlanInput {
  op: 'broadcast';
  /** The everyone-broadcast event as its rule handed it to the execution. */
  input: unknown;
  /** Scan segments read at once (TotalSegments). */
  segments: number;
  /** Seconds from now after which no segment reads another page. */
  seconds: number;
}

export interface BroadcastPlan {
  /** Always null: everyone. */
  roomId: null;
  /** What each connection gets (a broadcast: one frame; none for an unreadable event). */
  frames: Frame[];
  /** ISO time after which a segment reads no further page. */
  deadline: string;
  /** One entry per Scan segment (the machine reads none when there is no frame to send). */
  segments: { segment: number; total: number }[];
}

/** Bounds a template substitution can ask for: DynamoDB allows 1..1,000,000 segments; Express runs ≤ 300 s. */
const MAX_SEGMENTS = 40;
const MAX_SECONDS = 270;

export function planBroadcast(input: BroadcastPlanInput, now: number): BroadcastPlan {
  const total = Math.trunc(Number(input.segments));
  const seconds = Number(input.seconds);
  if (!(total >= 1 && total <= MAX_SEGMENTS) || !(seconds > 0 && seconds <= MAX_SECONDS))
    throw new TypeError(
      `a broadcast plan needs 1..${MAX_SEGMENTS} segments and 0..${MAX_SECONDS} seconds, not ${input.segments} and ${input.seconds}`,
    );
  const frames = everyoneFrames(input.input);
  return {
    roomId: null,
    frames,
    deadline: new Date(now + seconds * 1000).toISOString(),
    segments: Array.from({ length: total }, (_, segment) => ({ segment, total })),
  };
}
