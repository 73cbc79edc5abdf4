import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { mute, parseTarget } from './moderation';
import { moderationPorts } from './moderationPorts';

const deps = onFirstCall(moderationPorts);

/** mute: the owner or a moderator mutes a member for a time, or until unmuted (functions/rooms/moderation.ts). */
export const handler = routeHandler('mute', 'room', (frame) =>
  mute(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username), frame.body.minutes),
);
