import { auditModeration } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { notifier } from '#core/wiring/managementApi';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { rotateKey } from './owners';
import type { ModerationMemberships } from './ports';

/**
 * rotatekey: the owner gives its room a new invite key (functions/moderation/owners.ts). `memberships` builds the
 * hosting function's memberships store (ports.ts), where the owner's new key is kept, once, on the first call.
 */
export function rotatekeyRoute(memberships: () => ModerationMemberships) {
  const deps = onFirstCall(() => ({
    connections: connectionStore(),
    rooms: roomStore(),
    memberships: memberships(),
    notifier: notifier(),
    // The new key reaches the members through the room's fan-out (core/roomFrames.ts).
    events: eventPublisher(),
    now: systemClock,
    // The owner's action goes on record (the audit, owners.ts auditRow).
    audit: auditModeration,
  }));
  return routeHandler('rotatekey', 'room', (frame) =>
    rotateKey(servedFrom(deps(), frame), frame.connectionId),
  );
}
