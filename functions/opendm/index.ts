import { systemClock } from '../shared/clock';
import { config } from '../shared/config';
import { servedFrom } from '../shared/guard';
import { joinRoom } from '../shared/joining';
import { openDm, parseDmTarget } from '../shared/memberships';
import { onFirstCall } from '../shared/onFirstCall';
import { routeHandler } from '../shared/websocket';
import {
  connectionStore,
  membershipStore,
  messageStore,
  roomEntry,
  roomStore,
} from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  messages: messageStore(),
  entry: roomEntry(),
  events: eventPublisher(),
  memberships: membershipStore(),
  now: systemClock,
  roomIdleDays: config.roomIdleDays(),
}));

/** opendm: the caller enters its direct-message room with another signed-in user (functions/shared/memberships.ts). */
export const handler = routeHandler('opendm', (frame) => {
  const target = parseDmTarget(frame.body);
  const served = servedFrom(deps(), frame);
  // The caller's own read is answered from the frame count; the join reads the connection as it is then.
  return openDm(
    { ...served, join: (id, roomId) => joinRoom(deps(), id, roomId) },
    frame.connectionId,
    target,
  );
});
