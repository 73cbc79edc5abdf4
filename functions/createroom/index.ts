import { createRoom } from '../shared/chat';
import { METRIC, MetricUnit, metrics } from '../shared/powertools';
import { routeHandler } from '../shared/websocket';

export const handler = routeHandler('createroom', async (deps, { connectionId }) => {
  const joined = await createRoom(deps, connectionId);
  metrics.addMetric(METRIC.roomsCreated, MetricUnit.Count, 1);
  return joined;
});
