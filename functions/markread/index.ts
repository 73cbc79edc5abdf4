import { servedFrom } from '../domain/limits/guard';
import { markRead, parseReadSeq } from '../domain/rooms/memberships';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore } from '../platform/wiring/dynamodb';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

/** markread: the caller's read position in its room moves forward (functions/domain/rooms/memberships.ts). */
export const handler = routeHandler('markread', (frame) =>
  markRead(servedFrom(deps(), frame), frame.connectionId, parseReadSeq(frame.body.seq)),
);
