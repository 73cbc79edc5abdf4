import type { ChatMessage } from '../../../protocol';
import { roomFrameOf } from '../messaging/changes/frames';

/**
 * Coalesced delivery of a room's events (docs/DECISIONS.md, "Ordered fan-out"). The fan-out queue hands a room's
 * events to one execution at a time, up to ten at once (the pipe's batch): the execution posts each member one frame
 * for the run of messages it holds (a `batch` frame, or the plain `message` frame for one), so a busy room's members
 * get a post per batch, not per message.
 */

/** API Gateway's WebSocket frame: a batch never exceeds it (UTF-8 bytes of the JSON text). */
export const FRAME_LIMIT_BYTES = 32_768;

/** One post to one connection: its serialized frame and the seqs it carries. */
export interface Frame {
  payload: string;
  /** The first seq the frame carries: a member that misses it is owed the messages after `firstSeq - 1`. */
  firstSeq?: number;
  lastSeq: number;
  /** Messages it carries: 0 for a resync frame or an event that is no message (presence, a room's broadcast). */
  messages: number;
}

/** One room event's frame as sendmessage serialized it (`messageFrameOf`, `changeFrameOf`) and its seq. */
export interface SeqPayload {
  seq: number;
  payload: string;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The frames that carry a room's serialized message frames (ascending seq): consecutive ones share a `batch` frame
 * while it stays within FRAME_LIMIT_BYTES; a batch is never made of one message (that goes as its own frame, so a
 * message too long to share a frame goes alone).
 */
export function batchFrames(roomId: string, messages: readonly SeqPayload[]): Frame[] {
  const head = JSON.stringify({ type: 'batch', roomId, messages: [] }).slice(0, -2);
  const overhead = utf8(head) + 2;
  const frames: Frame[] = [];
  let pending: SeqPayload[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const first = pending[0];
    const last = pending[pending.length - 1];
    if (!first || !last) return;
    const payload =
      pending.length === 1 ? last.payload : `${head}${pending.map((m) => m.payload).join(',')}]}`;
    frames.push({ payload, firstSeq: first.seq, lastSeq: last.seq, messages: pending.length });
    pending = [];
    pendingBytes = 0;
  };
  for (const message of messages) {
    const bytes = utf8(message.payload);
    // A batch of the pending messages and this one: the overhead, every message and a comma between each two.
    if (pending.length > 0 && overhead + pendingBytes + pending.length + bytes > FRAME_LIMIT_BYTES) flush();
    pending.push(message);
    pendingBytes += bytes;
  }
  flush();
  return frames;
}

/** The frames of stored messages (or changes), as batchFrames builds them from their room frames. */
export function framesOf(roomId: string, messages: readonly ChatMessage[]): Frame[] {
  return batchFrames(
    roomId,
    messages.map((m) => ({ seq: m.seq, payload: JSON.stringify(roomFrameOf(m)) })),
  );
}

/** The frame that tells a member to fetch the room's messages after `afterSeq` from history. */
export const resyncFrame = (roomId: string, afterSeq: number): Frame => ({
  payload: JSON.stringify({ type: 'resync', roomId, afterSeq }),
  lastSeq: afterSeq,
  messages: 0,
});
