import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { myRooms } from './memberships';
import { membershipStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

/** myrooms: the rooms the caller belongs to, with unread counts (functions/rooms/memberships.ts). */
export const handler = routeHandler('myrooms', 'connection', (frame) =>
  myRooms(servedFrom(deps(), frame), frame.connectionId),
);
