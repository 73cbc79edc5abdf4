import { routeHandler } from '#core/websocket';
import { onFirstCall } from '#platform/onFirstCall';
import { pushSubscribe } from './subscribing';
import { connections, keys, localPushService, pushSubscriptions } from './wiring';

const deps = onFirstCall(() => ({
  connections: connections(),
  subscriptions: pushSubscriptions(),
  keys,
  localPushService: localPushService(),
}));

/** pushsubscribe: store the caller's push subscription, or answer the VAPID public key (subscribing.ts). */
export const handler = routeHandler('pushsubscribe', 'connection', (frame) =>
  pushSubscribe(deps(), frame.connectionId, frame.body),
);
