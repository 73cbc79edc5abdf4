import { batchFrames, type Frame } from '#deliver/coalescing';
import { roomFrameOf } from '#messages/changeFrames';
import type { ChatMessage } from '#protocol';

/**
 * The frames the fan-out sends for a room's stored messages (or changes): each one's room frame, as the fan-out's
 * cursor reads it from the log (deliver/dynamoCursor.ts), batched by batchFrames.
 */
export function framesOf(roomId: string, messages: readonly ChatMessage[]): Frame[] {
  return batchFrames(
    roomId,
    messages.map((m) => ({ seq: m.seq, payload: JSON.stringify(roomFrameOf(m)) })),
  );
}
