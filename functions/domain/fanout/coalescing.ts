import type { ChatMessage } from '../../../protocol';
import { roomFrameOf } from '../messaging/changes/frames';

/**
 * Coalesced delivery of a room's messages (docs/DECISIONS.md, "Coalesced fan-out"). One fan-out execution at a time
 * holds a room's delivery lease; it delivers every message after the room's delivery cursor, so the executions of
 * messages sent meanwhile end at once ("coalesced") and their messages reach each member in one post.
 */

/** API Gateway's WebSocket frame: a batch never exceeds it (UTF-8 bytes of the JSON text). */
export const FRAME_LIMIT_BYTES = 32_768;

/**
 * Messages one delivery cycle takes at most. The cursor moves past them when the cycle starts, so a backlog (after
 * a lease expired) is delivered in cycles of this many rather than in one read and one very long Map.
 */
export const MESSAGES_PER_CYCLE = 100;

/**
 * How long a delivery lease holds without renewal. Each page of members renews it, and a page's posts end within
 * Deliver's Timeout plus Lambda's retries (tests/template/deploy.test.ts holds this to four Timeouts at least), so a
 * live holder never loses it; a crashed holder's lease frees the room after this long.
 */
export const LEASE_MS = 120_000;

/**
 * A holder starts no cycle, page or chunk after this long (functions/deliver/timeBound.ts): what is left goes to a
 * successor execution. The longest step it may still be in, a chunk's Deliver (30 s) through its Retry (112 s at
 * every ceiling: tests/template/fanoutTime.test.ts), and the release after it end inside Express's 5 minutes.
 */
export const HANDOVER_MS = 120_000;

/**
 * A holder whose release finds messages that arrived during its cycle (a busy room) waits this long before taking
 * the next cycle, so the messages of that short window share its batch: fewer posts for a busy room. A quiet room's
 * release finds nothing new and frees the lease at once, so its messages never wait.
 */
export const BUSY_WINDOW_MS = 100;

/** One post to one connection: its serialized frame and the highest seq it carries. */
export interface Frame {
  payload: string;
  lastSeq: number;
  /** Messages it carries: 0 for a resync frame. */
  messages: number;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The frames that carry `messages` (one room, ascending seq) to a member: consecutive messages share a `batch`
 * frame while it stays within FRAME_LIMIT_BYTES; a batch is never made of one message (that goes as the plain
 * `message` frame, so a message too long to share a frame goes alone).
 */
export function framesOf(roomId: string, messages: readonly ChatMessage[]): Frame[] {
  const head = JSON.stringify({ type: 'batch', roomId, messages: [] }).slice(0, -2);
  const overhead = utf8(head) + 2;
  const frames: Frame[] = [];
  let pending: { text: string; seq: number }[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const last = pending[pending.length - 1];
    if (!last) return;
    const payload = pending.length === 1 ? last.text : `${head}${pending.map((m) => m.text).join(',')}]}`;
    frames.push({ payload, lastSeq: last.seq, messages: pending.length });
    pending = [];
    pendingBytes = 0;
  };
  for (const message of messages) {
    // A message in its final state, or a change (changes/): every room event takes a seq and rides the same batches.
    const text = JSON.stringify(roomFrameOf(message));
    const bytes = utf8(text);
    // A batch of the pending messages and this one: the overhead, every message and a comma between each two.
    if (pending.length > 0 && overhead + pendingBytes + pending.length + bytes > FRAME_LIMIT_BYTES) flush();
    pending.push({ text, seq: message.seq });
    pendingBytes += bytes;
  }
  flush();
  return frames;
}

/** The frame that tells a member to fetch the room's messages after `afterSeq` from history. */
export const resyncFrame = (roomId: string, afterSeq: number): Frame => ({
  payload: JSON.stringify({ type: 'resync', roomId, afterSeq }),
  lastSeq: afterSeq,
  messages: 0,
});

/**
 * A delivery cycle, as the state machine carries it: the messages after `afterSeq` up to `uptoSeq`, how many frames
 * they take per member (for the posting budget), and the members owed a resync frame (connection id -> afterSeq).
 */
export interface Cycle {
  afterSeq: number;
  uptoSeq: number;
  frames: number;
  resync: Record<string, number>;
}

/** What the holder of a room's lease does next: deliver a cycle, or nothing (another execution delivers). */
export type ClaimResult =
  | ({ coalesced?: false; released?: false } & Cycle)
  | { coalesced: true }
  | { released: true };

/**
 * Connections still owed messages after a post: each group gets the messages after its afterSeq up to uptoSeq.
 * `retryUntil` (epoch ms) is when the retry budget of its first failure runs out.
 */
export interface Group {
  afterSeq: number;
  uptoSeq: number;
  connectionIds: string[];
  attempt?: number;
  retryUntil?: number;
  waitSeconds?: number;
}

/** Whole seconds to wait before the next try of a group: full jitter on 1, 2, 4 ... up to 8 s (Wait takes seconds). */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(8, 2 ** Math.max(0, attempt - 1));
  return 1 + Math.floor(random() * ceiling);
}
