import { ChatError, RateLimited } from '#core/errors';
import { admitJoin, chargeFrames, isStrike, servedFrom, strike } from '#core/limits/guard';
import { memberKey, senderOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { routeHandler } from '#core/websocket';
import { connectionStore, departureRecords } from '#core/wiring/dynamodb';
import { guard } from '#core/wiring/guard';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { joinPorts } from './joinPorts';
import { logMembershipFailure, recordMembership } from './memberships';
import { parseRooms, subscribe } from './subscribing';
import { membershipStore } from './wiring';

const deps = onFirstCall(joinPorts);

const departures = onFirstCall(departureRecords);

const members = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
}));

/**
 * subscribe: follows many rooms in one frame without showing any of them (./subscribing.ts). The rooms are checked
 * before anything is read and cost the frame budget ROOMS_PER_FRAME rooms to a frame; each is then admitted as
 * joinroom admits it (guard.ts admitJoin), so its guesses, refusals and strikes are a join's.
 */
/**
 * Rooms of a `subscribe` that cost one frame of the connection's budget (FrameRateLimit): 100 rooms cost 10 frames,
 * so the largest `subscribe` leaves an honest client 90 of its 100 frames a minute, while a client resending it
 * reaches the limit (and is closed) after 10.
 */
const ROOMS_PER_FRAME = 10;

export const handler = routeHandler(
  'subscribe',
  'connection',
  async (frame) => {
    const rooms = parseRooms(frame.body.rooms);
    await chargeFrames(guard(), frame.connectionId, Math.ceil(rooms.length / ROOMS_PER_FRAME));
    // Once as many rooms failed as close a connection (StrikeLimit), the rooms left are not looked up: the strikes
    // are on their way to closing it, and rooms in flight (five at a time) are the most looked up past them.
    let failed = 0;
    let stopped = false;
    // API Gateway sends requestContext.identity.sourceIp with every WebSocket route; @types/aws-lambda omits it.
    const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
    const served = servedFrom(deps(), frame);
    const subscribed = await subscribe(
      {
        ...served,
        admit: async ({ roomId, key }) => {
          if (stopped)
            throw new RateLimited(
              'Too many rooms of this request failed to open: this one was not tried.',
              false,
            );
          const admitted = await admitJoin({ rooms: served.rooms }, guard(), {
            roomId,
            key,
            sourceIp: identity?.sourceIp,
            userId: frame.admitted?.userId,
            ...(frame.admitted && {
              memberKey: (room: string) => memberKey(room, senderOf(frame.admitted as Connection)),
            }),
          }).catch(async (error: unknown) => {
            // A room refused as a failed join would be is a strike as that join is (guard.ts STRIKE_CODES).
            if (error instanceof ChatError && isStrike(error, 'subscribe')) {
              const limit = guard().limits.strikes?.limit;
              if (limit !== undefined && ++failed >= limit) stopped = true;
              await strike(guard(), frame.connectionId, error, 'subscribe');
            }
            throw error;
          });
          // admitJoin answers this read from its own lookup of the room.
          const room = await admitted.deps.rooms.get(roomId);
          if (!room) throw new Error(`room ${roomId} admitted without its item`);
          return room;
        },
        remember: (joined) => recordMembership(members(), frame, joined, logMembershipFailure),
        signal: frame.signal,
        departures: departures(),
      },
      frame.connectionId,
      rooms,
    );
    logger.info('subscribed', { rooms: subscribed.rooms.length, refused: subscribed.refused.length });
    return subscribed;
    // Up to 100 rooms, five at a time (subscribing.ts): more than a join's 10 s, inside the gateway's 29 s integration
    // timeout; the route answers BUSY before it (websocket.ts) and a retry is harmless. RoomsFunction's Timeout.
  },
  { seconds: 20 },
);
