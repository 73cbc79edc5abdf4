import { servedFrom } from '#core/limits/guard';
import { requireString } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import type { ModerationDeps } from './moderation';
import { parseMemberName, removeMember } from './owners';

/**
 * removemember: the owner moves a member out of its room and rotates the key (functions/moderation/owners.ts); the
 * action goes on record (the audit, owners.ts auditRow). `deps`: the moderation routes' ports (wiring.ts).
 */
export const removememberRoute = (deps: () => ModerationDeps) =>
  routeHandler('removemember', 'room', (frame) => {
    const username = parseMemberName(requireString(frame.body, 'username'));
    return removeMember(servedFrom(deps(), frame), frame.connectionId, username);
  });
