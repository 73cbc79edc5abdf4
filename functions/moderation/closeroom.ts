import { auditModeration } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { notifier } from '#core/wiring/managementApi';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { closeRoom } from './owners';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  notifier: notifier(),
  events: eventPublisher(),
  now: systemClock,
  // The owner's action goes on record (the audit, owners.ts auditRow).
  audit: auditModeration,
}));

/** closeroom: the owner closes its room and every member is moved to the lobby (functions/moderation/owners.ts). */
export const handler = routeHandler('closeroom', 'room', (frame) =>
  closeRoom(servedFrom(deps(), frame), frame.connectionId),
);
