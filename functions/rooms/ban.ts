import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { ban, parseTarget } from './moderation';
import { moderationPorts } from './moderationPorts';

const deps = onFirstCall(moderationPorts);

/** ban: the owner or a moderator removes a member and bans its identity from the room (functions/rooms/moderation.ts). */
export const handler = routeHandler('ban', 'room', (frame) =>
  ban(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username)),
);
