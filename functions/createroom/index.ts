import { systemClock } from '../shared/clock';
import { METRIC, MetricUnit, metrics } from '../shared/powertools';
import { createRoom } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore, roomStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';
import { onFirstCall } from '../shared/wiring/onFirstCall';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  events: eventPublisher(),
  now: systemClock,
}));

export const handler = routeHandler('createroom', async ({ connectionId }) => {
  const joined = await createRoom(deps(), connectionId);
  metrics.addMetric(METRIC.roomsCreated, MetricUnit.Count, 1);
  return joined;
});
