import { systemClock } from '../shared/clock';
import { servedFrom } from '../shared/guard';
import { onFirstCall } from '../shared/onFirstCall';
import { closeRoom } from '../shared/owners';
import { routeHandler } from '../shared/websocket';
import { connectionStore, roomStore } from '../shared/wiring/dynamodb';
import { notifier } from '../shared/wiring/managementApi';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  notifier: notifier(),
  now: systemClock,
}));

/** closeroom: the owner closes its room and every member is moved to the lobby (functions/shared/owners.ts). */
export const handler = routeHandler('closeroom', (frame) =>
  closeRoom(servedFrom(deps(), frame), frame.connectionId),
);
