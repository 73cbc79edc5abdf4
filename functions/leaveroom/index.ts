import { systemClock } from '../shared/clock';
import { leaveRoom } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';
import { onFirstCall } from '../shared/wiring/onFirstCall';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  events: eventPublisher(),
  now: systemClock,
}));

export const handler = routeHandler('leaveroom', ({ connectionId }) => leaveRoom(deps(), connectionId));
