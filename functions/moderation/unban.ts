import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { type ModerationDeps, parseTarget, unban } from './moderation';

/** unban: the owner or a moderator lifts a ban (functions/moderation/moderation.ts). */
export const unbanRoute = (deps: () => ModerationDeps) =>
  routeHandler('unban', 'room', (frame) =>
    unban(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username)),
  );
