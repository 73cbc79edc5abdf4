import { systemClock } from '../shared/clock';
import { onFirstCall } from '../shared/onFirstCall';
import { METRIC, MetricUnit, metrics } from '../shared/powertools';
import { createRoom } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore, roomStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

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
