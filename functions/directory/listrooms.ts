import { routeHandler } from '#core/websocket';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { listRooms, parseListQuery } from './directory';
import { directoryStore } from './wiring';

const deps = onFirstCall(() => ({ directory: directoryStore(), now: systemClock }));

/**
 * listrooms: a page of the directory of public rooms by the start of their name (directory.ts); open to every
 * connection, signed in or not, as the rooms it lists are. Counted as a frame (guard.ts), as `who` is.
 */
export const handler = routeHandler('listrooms', 'connection', (frame) =>
  listRooms(deps(), parseListQuery(frame.body)),
);
