import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { type ModerationDeps, parseTarget, setRole } from './moderation';

/** setrole: the owner makes a member a moderator, or a moderator a member (functions/moderation/moderation.ts). */
export const setroleRoute = (deps: () => ModerationDeps) =>
  routeHandler('setrole', 'room', (frame) =>
    setRole(servedFrom(deps(), frame), frame.connectionId, parseTarget(frame.body.username), frame.body.role),
  );
