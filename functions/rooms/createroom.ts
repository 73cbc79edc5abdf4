import { servedFrom, withInviteKeys } from '#core/limits/guard';
import { limitSettings } from '#core/limits/limitSettings';
import { admitRoom, limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import { connectionStore, quotaStore, roomStore } from '#core/wiring/dynamodb';
import { presencePublisher } from '#core/wiring/presence';
import { parseRoomInfo, roomInfoOf, withRoomInfo } from '#directory/directory';
import { directoryStore } from '#directory/wiring';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { METRIC, MetricUnit, metrics } from '#platform/powertools';
import { logMembershipFailure, recordMembership } from './memberships';
import { createRoom } from './rooms';
import { membershipStore, otherDevices } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  events: presencePublisher(),
  now: systemClock,
}));
const rooms = onFirstCall(() => ({
  store: quotaStore(),
  get rate() {
    return limitSettings.roomCreateRate();
  },
  now: systemClock,
}));

const directory = onFirstCall(directoryStore);

const members = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
  // The new room shows in "Your rooms" on the person's other devices at once (`myroom`).
  otherDevices: otherDevices(),
}));

export const handler = routeHandler('createroom', 'connection', async (frame) => {
  // Its name, topic and visibility (functions/directory/) are read before anything is counted: bad input costs nothing.
  const info = parseRoomInfo(frame.body);
  // Counted per signed-in user where there is sign-in, else per source (quotas.ts): each room is kept RoomIdleDays.
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  await admitRoom(rooms(), limitOwner(frame.admitted?.userId, identity?.sourceIp));
  // The room gets an invite key beside its code: the creator shares code and key as a link (docs/SECURITY.md).
  const keyed = withInviteKeys(servedFrom(deps(), frame));
  // A public room's name is claimed in the room's own write (NAME_TAKEN if another public room holds it).
  const named = { ...roomInfoOf({ ...info, isPublic: info.public }) };
  const joined = {
    ...(await createRoom(withRoomInfo(keyed.deps, directory(), info), frame.connectionId)),
    ...named,
  };
  metrics.addMetric(METRIC.roomsCreated, MetricUnit.Count, 1);
  const inviteKey = keyed.inviteKey();
  // The room joins its creator's "my rooms" (memberships.ts).
  await recordMembership(members(), frame, { ...joined, inviteKey }, logMembershipFailure);
  return { ...joined, inviteKey };
});
