import { parseRoomId } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore, personRooms } from '#core/wiring/dynamodb';
import { presencePublisher } from '#core/wiring/presence';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { forgetMembership, logMembershipFailure } from './memberships';
import { leaveRoom } from './rooms';
import { membershipStore, otherDevices } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  events: presencePublisher(),
  memberships: membershipStore(),
  people: personRooms(),
  now: systemClock,
  // A room gone from the person's list leaves it on its other devices at once (`myroom` with `left`).
  otherDevices: otherDevices(),
}));

/**
 * leaveroom: without `roomId` (or naming the shown room) the caller goes back to the lobby; naming another room it
 * follows, it stops following that one only (NOT_SUBSCRIBED when it does not follow it). Either way the room hears
 * it leave and leaves its "my rooms" (memberships.ts), unless the person is still in it on another device
 * (rooms.ts personStays): presence and memberships are a person's.
 */
export const handler = routeHandler('leaveroom', 'connection', async (frame) => {
  const named = frame.body.roomId === undefined ? undefined : parseRoomId(frame.body.roomId);
  const { left, stays } = await leaveRoom(deps(), frame.connectionId, named);
  if (!stays) await forgetMembership(deps(), frame, left.roomId, logMembershipFailure);
  return left;
});
