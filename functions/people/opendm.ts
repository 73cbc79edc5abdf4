import { DynamoUserDevices } from '#core/aws/userDevices';
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
import { openDm, parseDmTarget } from '#rooms/directRooms';
import { joinRoom } from '#rooms/joining';
import { joinPorts } from '#rooms/joinPorts';
import { membershipStore } from '#rooms/wiring';
import { admitDirectOpen } from '#safety/screening';
import { dmBlocks } from '#safety/wiring';
import { notifyDmOpened } from './dmNotice';
import { sharedWith } from './people';
import { peopleStore } from './wiring';

const deps = onFirstCall(() => ({
  ...joinPorts(),
  memberships: membershipStore(),
}));
const notice = onFirstCall(() => ({
  devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
  notifier: notifier(),
}));
const people = onFirstCall(() => peopleStore());
const blocks = onFirstCall(dmBlocks);
const rooms = onFirstCall(() => ({
  store: quotaStore(),
  get rate() {
    return limitSettings.roomCreateRate();
  },
  now: systemClock,
}));

/** opendm: the caller enters its direct-message room with another signed-in user (functions/rooms/memberships.ts). */
export const handler = routeHandler('opendm', 'connection', (frame) => {
  const target = parseDmTarget(frame.body);
  const served = servedFrom(deps(), frame);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  // The caller's own read is answered from the frame count; the join reads the connection as it is then.
  // A peer named by id: whether the two share a room and its name there, read once for both questions.
  let shared: ReturnType<typeof sharedWith> | undefined;
  const sharing = (userId: string, peerId: string) => {
    shared ??= sharedWith(people(), userId, peerId);
    return shared;
  };
  return openDm(
    {
      ...served,
      join: (id, roomId) => joinRoom(deps(), id, roomId),
      notifyPeer: (userId, room) => notifyDmOpened(notice(), userId, room),
      // The opener's own other devices list a DM new to the person (`myroom`), by the same user index and poster.
      otherDevices: notice(),
      // Neither of a pair where one blocks the other opens their room (safety/screening.ts).
      admitPair: (roomId, opener) => admitDirectOpen(blocks(), roomId, opener),
      // A new room counts against the budget createroom uses (per signed-in user), and needs a real counterpart.
      admitNewRoom: () => admitRoom(rooms(), limitOwner(frame.admitted?.userId, identity?.sourceIp)),
      // One named by id must share a room with the caller (people.ts): no DM with someone found nowhere.
      sharesRoom: async (userId, peerId) => (await sharing(userId, peerId)).shares,
      peerName: async (userId, peerId) => (await sharing(userId, peerId)).username,
    },
    frame.connectionId,
    target,
  );
});
