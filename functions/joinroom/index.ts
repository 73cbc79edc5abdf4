import { systemClock } from '../shared/clock';
import { onFirstCall } from '../shared/onFirstCall';
import { parseRoomId, requireString } from '../shared/protocol';
import { joinRoom } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore, messageStore, roomStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  messages: messageStore(),
  events: eventPublisher(),
  now: systemClock,
}));

export const handler = routeHandler('joinroom', ({ connectionId, body }) =>
  joinRoom(deps(), connectionId, parseRoomId(requireString(body, 'roomId'))),
);
