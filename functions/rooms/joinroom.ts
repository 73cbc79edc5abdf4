import { admitJoin, parseInviteKey, servedFrom } from '../domain/limits/guard';
import { joinRoom } from '../domain/rooms/joining';
import { lobbyUnlisted, refuseLobbyJoin } from '../domain/rooms/lobby';
import { logMembershipFailure, recordMembership } from '../domain/rooms/memberships';
import { systemClock } from '../platform/clock';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { LOBBY, parseRoomId, requireString } from '../platform/protocol';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore } from '../platform/wiring/dynamodb';
import { guard } from '../platform/wiring/guard';
import { joinPorts } from '../platform/wiring/joining';

const deps = onFirstCall(joinPorts);

const members = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

export const handler = routeHandler('joinroom', async (frame) => {
  const { connectionId, body, event } = frame;
  const roomId = parseRoomId(requireString(body, 'roomId'));
  if (roomId === LOBBY) refuseLobbyJoin(config.lobbyPolicy());
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
  });
  const joined = await joinRoom(admitted.deps, connectionId, roomId, {
    lobbyUnlisted: lobbyUnlisted(config.lobbyPolicy()),
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
