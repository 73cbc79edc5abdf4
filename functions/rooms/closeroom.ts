import { servedFrom } from '../domain/limits/guard';
import { closeRoom } from '../domain/rooms/owners';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, roomStore } from '../platform/wiring/dynamodb';
import { notifier } from '../platform/wiring/managementApi';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  notifier: notifier(),
  now: systemClock,
}));

/** closeroom: the owner closes its room and every member is moved to the lobby (functions/domain/rooms/owners.ts). */
export const handler = routeHandler('closeroom', (frame) =>
  closeRoom(servedFrom(deps(), frame), frame.connectionId),
);
