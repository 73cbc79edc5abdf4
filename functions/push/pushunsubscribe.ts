import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { pushUnsubscribe } from './subscribing';
import { connections, keys, localPushService, pushSubscriptions } from './wiring';

const deps = onFirstCall(() => ({
  connections: connections(),
  subscriptions: pushSubscriptions(),
  keys,
  localPushService: localPushService(),
}));

/** pushunsubscribe: remove one of the caller's push subscriptions (subscribing.ts). */
export const handler = routeHandler('pushunsubscribe', 'connection', (frame) =>
  pushUnsubscribe(deps(), frame.connectionId, frame.body),
);
