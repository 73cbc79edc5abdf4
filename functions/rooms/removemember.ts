import { DynamoUserDevices } from '#core/aws/userDevices';
import { auditModeration } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { requireString } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { presencePublisher } from '#core/wiring/presence';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { parseMemberName, removeMember } from './owners';
import { membershipStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  memberships: membershipStore(),
  devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
  notifier: notifier(),
  events: presencePublisher(),
  now: systemClock,
  // The owner's action goes on record (the audit, owners.ts auditRow).
  audit: auditModeration,
}));

/** removemember: the owner moves a member out of its room and rotates the key (functions/rooms/owners.ts). */
export const handler = routeHandler('removemember', 'room', (frame) => {
  const username = parseMemberName(requireString(frame.body, 'username'));
  return removeMember(servedFrom(deps(), frame), frame.connectionId, username);
});
