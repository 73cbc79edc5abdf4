import { admitJoin, servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { guard } from '#core/wiring/guard';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { joinPorts } from './joinPorts';
import { logMembershipFailure, recordMembership } from './memberships';
import { parseRooms, subscribe } from './subscribing';
import { membershipStore } from './wiring';

const deps = onFirstCall(joinPorts);

const members = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

/**
 * subscribe: follows many rooms in one frame without showing any of them (./subscribing.ts). The rooms are checked
 * before anything is read; each is then admitted as joinroom admits it (guard.ts admitJoin), so its guesses and
 * refusals are a join's.
 */
export const handler = routeHandler('subscribe', async (frame) => {
  const rooms = parseRooms(frame.body.rooms);
  // API Gateway sends requestContext.identity.sourceIp with every WebSocket route; @types/aws-lambda omits it.
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  const served = servedFrom(deps(), frame);
  const subscribed = await subscribe(
    {
      ...served,
      admit: async ({ roomId, key }) => {
        const admitted = await admitJoin({ rooms: served.rooms }, guard(), {
          roomId,
          key,
          sourceIp: identity?.sourceIp,
          userId: frame.admitted?.userId,
        });
        // admitJoin answers this read from its own lookup of the room.
        const room = await admitted.deps.rooms.get(roomId);
        if (!room) throw new Error(`room ${roomId} admitted without its item`);
        return room;
      },
      remember: (joined) => recordMembership(members(), frame, joined, logMembershipFailure),
      signal: frame.signal,
    },
    frame.connectionId,
    rooms,
  );
  logger.info('subscribed', { rooms: subscribed.rooms.length, refused: subscribed.refused.length });
  return subscribed;
});
