import { servedFrom } from '../domain/limits/guard';
import { seenBy } from '../domain/rooms/memberships';
import { systemClock } from '../platform/clock';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore } from '../platform/wiring/dynamodb';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));
/** Rooms larger than this answer `tooLarge` (runtime setting SeenByMaxMembers, read on every call). */
const maxMembers = () => config.seenByMaxMembers();

/** seenby: each member of the caller's room with its read position (functions/domain/rooms/memberships.ts). */
export const handler = routeHandler('seenby', (frame) =>
  seenBy(servedFrom(deps(), frame), frame.connectionId, maxMembers()),
);
