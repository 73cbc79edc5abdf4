import { joinRoom, requireString } from '../shared/chat';
import { admitJoin, parseInviteKey } from '../shared/guard';
import { guardDeps } from '../shared/guardDeps';
import { parseRoomId } from '../shared/protocol';
import { routeHandler } from '../shared/websocket';

export const handler = routeHandler('joinroom', async (deps, { connectionId, body, event }) => {
  const roomId = parseRoomId(requireString(body, 'roomId'));
  const key = parseInviteKey(body.key);
  // API Gateway sends requestContext.identity.sourceIp with every WebSocket route; @types/aws-lambda omits it.
  const { identity } = event.requestContext as { identity?: { sourceIp?: string } };
  const sourceIp = identity?.sourceIp;
  const admitted = await admitJoin(deps, guardDeps(), { roomId, key, sourceIp });
  const joined = await joinRoom(admitted.deps, connectionId, roomId);
  return admitted.inviteKey ? { ...joined, inviteKey: admitted.inviteKey } : joined;
});
