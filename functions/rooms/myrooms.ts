import { servedFrom } from '../domain/limits/guard';
import { myRooms } from '../domain/rooms/memberships';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore } from '../platform/wiring/dynamodb';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

/** myrooms: the rooms the caller belongs to, with unread counts (functions/domain/rooms/memberships.ts). */
export const handler = routeHandler('myrooms', (frame) =>
  myRooms(servedFrom(deps(), frame), frame.connectionId),
);
