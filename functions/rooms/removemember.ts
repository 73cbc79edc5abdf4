import { servedFrom } from '../domain/limits/guard';
import { parseMemberName, removeMember } from '../domain/rooms/owners';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { requireString } from '../platform/protocol';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore, roomStore } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';
import { notifier } from '../platform/wiring/managementApi';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  memberships: membershipStore(),
  notifier: notifier(),
  events: eventPublisher(),
  now: systemClock,
}));

/** removemember: the owner moves a member out of its room and rotates the key (functions/domain/rooms/owners.ts). */
export const handler = routeHandler('removemember', (frame) => {
  const username = parseMemberName(requireString(frame.body, 'username'));
  return removeMember(servedFrom(deps(), frame), frame.connectionId, username);
});
