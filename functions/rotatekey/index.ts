import { systemClock } from '../shared/clock';
import { servedFrom } from '../shared/guard';
import { onFirstCall } from '../shared/onFirstCall';
import { rotateKey } from '../shared/owners';
import { routeHandler } from '../shared/websocket';
import { connectionStore, roomStore } from '../shared/wiring/dynamodb';
import { notifier } from '../shared/wiring/managementApi';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  notifier: notifier(),
  now: systemClock,
}));

/** rotatekey: the owner gives its room a new invite key (functions/shared/owners.ts). */
export const handler = routeHandler('rotatekey', (frame) =>
  rotateKey(servedFrom(deps(), frame), frame.connectionId),
);
