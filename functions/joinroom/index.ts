import { systemClock } from '../shared/clock';
import { parseRoomId, requireString } from '../shared/protocol';
import { joinRoom } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore, messageStore, roomStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';
import { onFirstCall } from '../shared/wiring/onFirstCall';

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
