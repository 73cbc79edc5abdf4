import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { seenBy } from './reading';
import { readPositions } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  reads: readPositions(),
  now: systemClock,
}));
/** Rooms larger than this answer `tooLarge` (runtime setting SeenByMaxMembers, read on every call). */
const maxMembers = () => settings().SeenByMaxMembers;

/** seenby: each member of the caller's room with its read position (reading.ts). */
export const handler = routeHandler('seenby', 'room', (frame) =>
  seenBy(servedFrom(deps(), frame), frame.connectionId, maxMembers()),
);
