import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { parseTarget, unban } from './moderation';
import { moderationPorts } from './moderationPorts';

const deps = onFirstCall(moderationPorts);

/** unban: the owner or a moderator lifts a ban (functions/rooms/moderation.ts). */
export const handler = routeHandler('unban', 'room', (frame) =>
  unban(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username)),
);
