import { servedFrom } from '../domain/limits/guard';
import { markRead, parseReadSeq } from '../domain/rooms/memberships';
import { systemClock } from '../platform/clock';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, membershipStore } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';

const deps = onFirstCall(() => {
  const connections = connectionStore();
  return {
    connections,
    memberships: membershipStore(),
    now: systemClock,
    // A read that moved is pushed to rooms of at most SeenByMaxMembers (runtime setting, read on every call) through the fan-out.
    seen: {
      events: eventPublisher(),
      membersUpTo: (roomId: string, limit: number) => connections.membersUpTo(roomId, limit),
      get maxMembers() {
        return config.seenByMaxMembers();
      },
    },
  };
});

/** markread: the caller's read position in its room moves forward (functions/domain/rooms/memberships.ts). */
export const handler = routeHandler('markread', (frame) =>
  markRead(servedFrom(deps(), frame), frame.connectionId, parseReadSeq(frame.body.seq)),
);
