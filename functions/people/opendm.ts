import { servedFrom } from '../domain/limits/guard';
import { admitRoom, limitOwner } from '../domain/limits/quotas';
import { notifyDmOpened } from '../domain/rooms/dmNotice';
import { DynamoUserDevices } from '../domain/rooms/dynamoUserDevices';
import { joinRoom } from '../domain/rooms/joining';
import { openDm, parseDmTarget } from '../domain/rooms/memberships';
import { sharesRoom } from '../domain/rooms/people';
import { systemClock } from '../platform/clock';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { documentClient, membershipStore, peopleStore, quotaStore } from '../platform/wiring/dynamodb';
import { joinPorts } from '../platform/wiring/joining';
import { notifier } from '../platform/wiring/managementApi';

const deps = onFirstCall(() => ({
  ...joinPorts(),
  memberships: membershipStore(),
  // Runtime settings are getters: read from the settings document on every invocation (platform/settings.ts).
  get roomIdleDays() {
    return config.roomIdleDays();
  },
}));
const notice = onFirstCall(() => ({
  devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
  notifier: notifier(),
}));
const people = onFirstCall(() => peopleStore());
const rooms = onFirstCall(() => ({
  store: quotaStore(),
  get rate() {
    return config.roomCreateRate();
  },
  now: systemClock,
}));

/** opendm: the caller enters its direct-message room with another signed-in user (functions/domain/rooms/memberships.ts). */
export const handler = routeHandler('opendm', (frame) => {
  const target = parseDmTarget(frame.body);
  const served = servedFrom(deps(), frame);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  // The caller's own read is answered from the frame count; the join reads the connection as it is then.
  return openDm(
    {
      ...served,
      join: (id, roomId) => joinRoom(deps(), id, roomId),
      notifyPeer: (userId, room) => notifyDmOpened(notice(), userId, room),
      // A new room counts against the budget createroom uses (per signed-in user), and needs a real counterpart.
      admitNewRoom: () => admitRoom(rooms(), limitOwner(frame.admitted?.userId, identity?.sourceIp)),
      // One named by id must share a room with the caller (people.ts): no DM with someone found nowhere.
      sharesRoom: (userId, peerId) => sharesRoom(people(), userId, peerId),
    },
    frame.connectionId,
    target,
  );
});
