import { servedFrom } from '../domain/limits/guard';
import { rotateKey } from '../domain/rooms/owners';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore, roomStore } from '../platform/wiring/dynamodb';
import { notifier } from '../platform/wiring/managementApi';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  memberships: membershipStore(),
  notifier: notifier(),
  now: systemClock,
}));

/** rotatekey: the owner gives its room a new invite key (functions/domain/rooms/owners.ts). */
export const handler = routeHandler('rotatekey', (frame) =>
  rotateKey(servedFrom(deps(), frame), frame.connectionId),
);
