import { systemClock } from '../shared/clock';
import { servedFrom } from '../shared/guard';
import { markRead, parseReadSeq } from '../shared/memberships';
import { onFirstCall } from '../shared/onFirstCall';
import { routeHandler } from '../shared/websocket';
import { connectionStore, membershipStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

/** markread: the caller's read position in its room moves forward (functions/shared/memberships.ts). */
export const handler = routeHandler('markread', (frame) =>
  markRead(servedFrom(deps(), frame), frame.connectionId, parseReadSeq(frame.body.seq)),
);
