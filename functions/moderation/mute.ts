import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { type ModerationDeps, mute, parseTarget } from './moderation';

/**
 * mute: the owner or a moderator mutes a member for a time, or until unmuted
 * (functions/moderation/moderation.ts).
 */
export const muteRoute = (deps: () => ModerationDeps) =>
  routeHandler('mute', 'room', (frame) =>
    mute(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username), frame.body.minutes),
  );
