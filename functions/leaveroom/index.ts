import { systemClock } from '../shared/clock';
import { forgetMembership, logMembershipFailure } from '../shared/memberships';
import { onFirstCall } from '../shared/onFirstCall';
import { leaveRoom } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore, membershipStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

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
