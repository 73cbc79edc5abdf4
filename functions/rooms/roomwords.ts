import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { parseRoomWords, roomWords } from './moderation';
import { moderationPorts } from './moderationPorts';

const deps = onFirstCall(moderationPorts);

/** roomwords: the owner sets the room's own filtered words ([] clears them) (functions/rooms/moderation.ts). */
export const handler = routeHandler('roomwords', 'room', (frame) =>
  roomWords(servedFrom(deps(), frame), frame.connectionId, parseRoomWords(frame.body.words)),
);
