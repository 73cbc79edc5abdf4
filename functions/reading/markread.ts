import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { markRead, parseReadSeq } from '#rooms/memberships';
import { membershipStore } from '#rooms/wiring';

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

/** markread: the caller's read position in its room moves forward (functions/rooms/memberships.ts). */
export const handler = routeHandler('markread', (frame) =>
  markRead(servedFrom(deps(), frame), frame.connectionId, parseReadSeq(frame.body.seq)),
);
