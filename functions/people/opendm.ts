import { servedFrom } from '#core/limits/guard';
import { limitSettings } from '#core/limits/limitSettings';
import { admitRoom, limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import { quotaStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { joinRoom } from '#rooms/joining';
import { joinPorts } from '#rooms/joinPorts';
import { openDm, parseDmTarget } from '#rooms/memberships';
import { membershipStore } from '#rooms/wiring';
import { notifyDmOpened } from './dmNotice';
import { DynamoUserDevices } from './dynamoUserDevices';
import { sharesRoom } from './people';
import { peopleStore } from './wiring';

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
    return limitSettings.roomCreateRate();
  },
  now: systemClock,
}));

/** opendm: the caller enters its direct-message room with another signed-in user (functions/rooms/memberships.ts). */
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
