import { DynamoUserDevices } from '#core/aws/userDevices';
import { requireConnection } from '#core/identity/connections';
import { servedFrom } from '#core/limits/guard';
import { takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { personGate } from '#core/wiring/guard';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { parseNotices, setNotices } from './notices';
import { readPositions } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  notices: readPositions(),
  // A choice reaches the person's other devices (core/identity/otherDevices.ts): the user index, then one post each.
  otherDevices: {
    devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
    notifier: notifier(),
  },
}));

/**
 * setnotices: the caller's notices in one of its rooms (notices.ts), within the person's read budget across its
 * connections (PersonReadRateLimit; personRate.ts): each choice is pushed to the person's other devices as a moved
 * read is, so it costs what a read costs and shares its bucket.
 */
export const handler = routeHandler('setnotices', 'connection', async (frame) => {
  const change = parseNotices(frame.body);
  const connection = await requireConnection(servedFrom(deps(), frame), frame.connectionId);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  await takePersonToken(personGate(), 'read', limitOwner(connection.userId, identity?.sourceIp));
  return setNotices(servedFrom(deps(), { ...frame, admitted: connection }), frame.connectionId, change);
});
