import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { ban, type ModerationDeps, parseTarget } from './moderation';

/**
 * ban: the owner or a moderator removes a member and bans its identity from the room
 * (functions/moderation/moderation.ts).
 */
export const banRoute = (deps: () => ModerationDeps) =>
  routeHandler('ban', 'room', (frame) =>
    ban(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username)),
  );
