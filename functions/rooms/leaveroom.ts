import { forgetMembership, logMembershipFailure } from '../domain/rooms/memberships';
import { leaveRoom } from '../domain/rooms/rooms';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { parseRoomId } from '../platform/protocol';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  events: eventPublisher(),
  memberships: membershipStore(),
  now: systemClock,
}));

/**
 * leaveroom: without `roomId` (or naming the shown room) the caller goes back to the lobby; naming another room it
 * follows, it stops following that one only (NOT_SUBSCRIBED when it does not follow it). Either way the room hears
 * it leave and leaves its "my rooms" (memberships.ts).
 */
export const handler = routeHandler('leaveroom', async (frame) => {
  const named = frame.body.roomId === undefined ? undefined : parseRoomId(frame.body.roomId);
  const left = await leaveRoom(deps(), frame.connectionId, named);
  await forgetMembership(deps(), frame, left.roomId, logMembershipFailure);
  return left;
});
