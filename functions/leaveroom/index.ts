import { forgetMembership, logMembershipFailure } from '../domain/rooms/memberships';
import { leaveRoom } from '../domain/rooms/rooms';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  events: eventPublisher(),
  memberships: membershipStore(),
  now: systemClock,
}));

/** leaveroom: the caller goes back to the lobby, and the room leaves its "my rooms" (memberships.ts). */
export const handler = routeHandler('leaveroom', async (frame) => {
  const left = await leaveRoom(deps(), frame.connectionId);
  await forgetMembership(deps(), frame, left.roomId, logMembershipFailure);
  return left;
});
