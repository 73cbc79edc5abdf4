import { systemClock } from '../shared/clock';
import { positiveEnv } from '../shared/config';
import { servedFrom } from '../shared/guard';
import { seenBy } from '../shared/memberships';
import { onFirstCall } from '../shared/onFirstCall';
import { routeHandler } from '../shared/websocket';
import { connectionStore, membershipStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));
/** Rooms larger than this answer `tooLarge` (template setting SeenByMaxMembers). */
const maxMembers = onFirstCall(() => positiveEnv('SEEN_BY_MAX_MEMBERS'));

/** seenby: each member of the caller's room with its read position (functions/shared/memberships.ts). */
export const handler = routeHandler('seenby', (frame) =>
  seenBy(servedFrom(deps(), frame), frame.connectionId, maxMembers()),
);
