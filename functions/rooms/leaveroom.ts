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
 * follows, it stops following that one only (NOT_SUBSCRIBED when it does not follow it). Either way the room leaves
 * the person's "my rooms" (memberships.ts) on every device: a leave is the person's, and the web chat follows every
 * listed room on each device, so a device still following it must not keep it. The room hears the person leave once
 * its last connection lets go (rooms.ts personStays): the other devices, told `myroom` `left`, let go with their own
 * leaveroom, which finds no membership and tells nothing (docs/DECISIONS.md, "A room left, placed and counted the
 * same on every device").
 */
export const handler = routeHandler('leaveroom', 'connection', async (frame) => {
  const named = frame.body.roomId === undefined ? undefined : parseRoomId(frame.body.roomId);
  const left = await leaveRoom(deps(), frame.connectionId, named);
  await forgetMembership(deps(), frame, left.roomId, logMembershipFailure);
  return left;
});
