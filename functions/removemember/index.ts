import { systemClock } from '../shared/clock';
import { servedFrom } from '../shared/guard';
import { onFirstCall } from '../shared/onFirstCall';
import { parseMemberName, removeMember } from '../shared/owners';
import { requireString } from '../shared/protocol';
import { routeHandler } from '../shared/websocket';
import { connectionStore, roomStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';
import { notifier } from '../shared/wiring/managementApi';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  notifier: notifier(),
  events: eventPublisher(),
  now: systemClock,
}));

/** removemember: the owner moves a member out of its room and rotates the key (functions/shared/owners.ts). */
export const handler = routeHandler('removemember', (frame) => {
  const username = parseMemberName(requireString(frame.body, 'username'));
  return removeMember(servedFrom(deps(), frame), frame.connectionId, username);
});
