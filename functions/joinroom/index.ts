import { joinRoom, requireString } from '../shared/chat';
import { parseRoomId } from '../shared/protocol';
import { routeHandler } from '../shared/websocket';

export const handler = routeHandler('joinroom', (deps, { connectionId, body }) =>
  joinRoom(deps, connectionId, parseRoomId(requireString(body, 'roomId'))),
);
