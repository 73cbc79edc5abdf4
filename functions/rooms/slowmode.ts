import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { slowMode } from './moderation';
import { moderationPorts } from './moderationPorts';

const deps = onFirstCall(moderationPorts);

/** slowmode: the owner sets the seconds between two messages of one member (0: off) (functions/rooms/moderation.ts). */
export const handler = routeHandler('slowmode', 'room', (frame) =>
  slowMode(servedFrom(deps(), frame), frame.connectionId, frame.body.seconds),
);
