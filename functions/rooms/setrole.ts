import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { parseTarget, setRole } from './moderation';
import { moderationPorts } from './moderationPorts';

const deps = onFirstCall(moderationPorts);

/** setrole: the owner makes a member a moderator, or a moderator a member (functions/rooms/moderation.ts). */
export const handler = routeHandler('setrole', 'room', (frame) =>
  setRole(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username), frame.body.role),
);
