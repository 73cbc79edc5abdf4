import { systemClock } from '../shared/clock';
import { servedFrom } from '../shared/guard';
import { myRooms } from '../shared/memberships';
import { onFirstCall } from '../shared/onFirstCall';
import { routeHandler } from '../shared/websocket';
import { connectionStore, membershipStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

/** myrooms: the rooms the caller belongs to, with unread counts (functions/shared/memberships.ts). */
export const handler = routeHandler('myrooms', (frame) =>
  myRooms(servedFrom(deps(), frame), frame.connectionId),
);
