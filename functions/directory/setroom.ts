import { auditModeration } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { parseRoomInfo, setRoom } from './directory';
import { directoryStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  directory: directoryStore(),
  events: eventPublisher(),
  now: systemClock,
  // The owner's change goes on record (the audit, directory.ts setRoom).
  audit: auditModeration,
}));

/** setroom: the owner renames its room, sets its topic, makes it public or private, lets members pin or not (directory.ts). */
export const handler = routeHandler('setroom', 'room', (frame) =>
  setRoom(servedFrom(deps(), frame), frame.connectionId, parseRoomInfo(frame.body)),
);
