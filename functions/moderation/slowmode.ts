import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { type ModerationDeps, slowMode } from './moderation';

/**
 * slowmode: the owner sets the seconds between two messages of one member (0: off)
 * (functions/moderation/moderation.ts).
 */
export const slowmodeRoute = (deps: () => ModerationDeps) =>
  routeHandler('slowmode', 'room', (frame) =>
    slowMode(servedFrom(deps(), frame), frame.connectionId, frame.body.seconds),
  );
