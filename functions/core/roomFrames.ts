import { randomUUID } from 'node:crypto';
import type { ChatEvent } from '#core/ports';

/**
 * A room's frame to its members that takes no seq (RoomEventsRule's `Broadcast` with a room): the fan-out posts it to
 * every member the room index lists, less the names the room removed (functions/deliver/prepare.ts), in the room's
 * queue group. A route that tells the whole room publishes this instead of posting to each member itself.
 * `movesOutAt` (closeroom): the fan-out moves each member it posts the frame to out of the room, to the lobby, before the post.
 */
export const roomFrameEvent = (roomId: string, frame: object, movesOutAt?: string): ChatEvent => ({
  type: 'Broadcast',
  messageId: randomUUID(),
  roomId,
  payload: JSON.stringify(frame),
  ...(movesOutAt !== undefined && { movesOut: movesOutAt }),
});
