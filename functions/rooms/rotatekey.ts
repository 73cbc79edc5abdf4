import { auditModeration } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { notifier } from '#core/wiring/managementApi';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { rotateKey } from './owners';
import { membershipStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  memberships: membershipStore(),
  notifier: notifier(),
  // The new key reaches the members through the room's fan-out (core/roomFrames.ts).
  events: eventPublisher(),
  now: systemClock,
  // The owner's action goes on record (the audit, owners.ts auditRow).
  audit: auditModeration,
}));

/** rotatekey: the owner gives its room a new invite key (functions/rooms/owners.ts). */
export const handler = routeHandler('rotatekey', 'room', (frame) =>
  rotateKey(servedFrom(deps(), frame), frame.connectionId),
);
