import { createRoom } from '../shared/chat';
import { withInviteKeys } from '../shared/guard';
import { METRIC, MetricUnit, metrics } from '../shared/powertools';
import { routeHandler } from '../shared/websocket';

export const handler = routeHandler('createroom', async (deps, { connectionId }) => {
  // The room gets an invite key beside its code: the creator shares code and key as a link (docs/SECURITY.md).
  const keyed = withInviteKeys(deps);
  const joined = await createRoom(keyed.deps, connectionId);
  metrics.addMetric(METRIC.roomsCreated, MetricUnit.Count, 1);
  return { ...joined, inviteKey: keyed.inviteKey() };
});
