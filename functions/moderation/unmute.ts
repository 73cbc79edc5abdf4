import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { type ModerationDeps, parseTarget, unmute } from './moderation';

/** unmute: the owner or a moderator ends a mute (functions/moderation/moderation.ts). */
export const unmuteRoute = (deps: () => ModerationDeps) =>
  routeHandler('unmute', 'room', (frame) =>
    unmute(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username)),
  );
