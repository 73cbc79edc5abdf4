import { admitJoin, parseInviteKey, servedFrom } from '#core/limits/guard';
import { lobbyUnlisted, refuseLobbyJoin } from '#core/lobby';
import { memberKey, senderOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { LOBBY, parseRoomId, requireString } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore, departureRecords } from '#core/wiring/dynamodb';
import { guard } from '#core/wiring/guard';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { joinRoom } from './joining';
import { joinPorts } from './joinPorts';
import { logMembershipFailure, recordMembership } from './memberships';
import { membershipStore, otherDevices } from './wiring';

const deps = onFirstCall(joinPorts);
const departures = onFirstCall(departureRecords);

const members = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
  // A room new to the person's list shows on its other devices at once (`myroom`).
  otherDevices: otherDevices(),
}));

export const handler = routeHandler('joinroom', 'connection', async (frame) => {
  const { connectionId, body, event } = frame;
  const roomId = parseRoomId(requireString(body, 'roomId'));
  if (roomId === LOBBY) refuseLobbyJoin(settings().LobbyPolicy);
  const key = parseInviteKey(body.key);
  // API Gateway sends requestContext.identity.sourceIp with every WebSocket route; @types/aws-lambda omits it.
  const { identity } = event.requestContext as { identity?: { sourceIp?: string } };
  // The use case reads the connection (its chosen name) from the item the frame count returned, and a signed-in
  // user's failed guesses count for that user, not the network (guard.ts, limitOwner).
  const admitted = await admitJoin(servedFrom(deps(), frame), guard(), {
    roomId,
    key,
    sourceIp: identity?.sourceIp,
    userId: frame.admitted?.userId,
    // The joiner's identity in the room: a member banned there is refused BANNED before its key is looked at.
    ...(frame.admitted && {
      memberKey: (room: string) => memberKey(room, senderOf(frame.admitted as Connection)),
    }),
  });
  const joined = await joinRoom({ ...admitted.deps, departures: departures() }, connectionId, roomId, {
    lobbyUnlisted: lobbyUnlisted(settings().LobbyPolicy),
  });
  // The room joins the member's "my rooms" (memberships.ts), with the key it got in by.
  await recordMembership(
    members(),
    frame,
    { ...joined, inviteKey: admitted.inviteKey },
    logMembershipFailure,
  );
  return admitted.inviteKey ? { ...joined, inviteKey: admitted.inviteKey } : joined;
});
