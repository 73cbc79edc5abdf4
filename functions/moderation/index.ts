import { onFirstCall } from '#platform/onFirstCall';
import { banRoute } from './ban';
import { handler as closeroom } from './closeroom';
import { muteRoute } from './mute';
import type { ModerationMemberships } from './ports';
import { removememberRoute } from './removemember';
import { roomwordsRoute } from './roomwords';
import { rotatekeyRoute } from './rotatekey';
import { setroleRoute } from './setrole';
import { slowmodeRoute } from './slowmode';
import { unbanRoute } from './unban';
import { unmuteRoute } from './unmute';
import { moderationPorts } from './wiring';

/**
 * The moderation feature's routes, for the route table of the function that hosts them (rooms/index.ts): the
 * owner's powers (`closeroom`, `rotatekey`, `removemember`, `setrole`, `slowmode`, `roomwords`) and the owner's and
 * moderators' (`mute`, `unmute`, `ban`, `unban`). The host hands in its memberships store (`ModerationMemberships`,
 * ports.ts), where a rotation keeps the owner's key and a removal forgets the member, so moderation imports no rooms
 * module; the routes that take the moderation ports (wiring.ts) build them once, on the first call of any.
 */
export function moderationRoutes(memberships: () => ModerationMemberships) {
  const ports = onFirstCall(() => moderationPorts(memberships()));
  return [
    closeroom,
    removememberRoute(ports),
    rotatekeyRoute(memberships),
    setroleRoute(ports),
    muteRoute(ports),
    unmuteRoute(ports),
    banRoute(ports),
    unbanRoute(ports),
    slowmodeRoute(ports),
    roomwordsRoute(ports),
  ];
}
