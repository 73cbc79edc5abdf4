import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { parseTarget, unmute } from './moderation';
import { moderationPorts } from './moderationPorts';

const deps = onFirstCall(moderationPorts);

/** unmute: the owner or a moderator ends a mute (functions/rooms/moderation.ts). */
export const handler = routeHandler('unmute', 'room', (frame) =>
  unmute(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username)),
);
