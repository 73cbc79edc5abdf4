import { systemClock } from '../shared/clock';
import { onFirstCall } from '../shared/onFirstCall';
import { leaveRoom } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  events: eventPublisher(),
  now: systemClock,
}));

export const handler = routeHandler('leaveroom', ({ connectionId }) => leaveRoom(deps(), connectionId));
