import { servedFrom } from '../domain/limits/guard';
import { notifyDmOpened } from '../domain/rooms/dmNotice';
import { DynamoUserDevices } from '../domain/rooms/dynamoUserDevices';
import { joinRoom } from '../domain/rooms/joining';
import { openDm, parseDmTarget } from '../domain/rooms/memberships';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { documentClient, membershipStore } from '../platform/wiring/dynamodb';
import { joinPorts } from '../platform/wiring/joining';
import { notifier } from '../platform/wiring/managementApi';

const deps = onFirstCall(() => ({
  ...joinPorts(),
  memberships: membershipStore(),
  roomIdleDays: config.roomIdleDays(),
}));
const notice = onFirstCall(() => ({
  devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
  notifier: notifier(),
}));

/** opendm: the caller enters its direct-message room with another signed-in user (functions/domain/rooms/memberships.ts). */
export const handler = routeHandler('opendm', (frame) => {
  const target = parseDmTarget(frame.body);
  const served = servedFrom(deps(), frame);
  // The caller's own read is answered from the frame count; the join reads the connection as it is then.
  return openDm(
    {
      ...served,
      join: (id, roomId) => joinRoom(deps(), id, roomId),
      notifyPeer: (userId, room) => notifyDmOpened(notice(), userId, room),
    },
    frame.connectionId,
    target,
  );
});
