import { BadRequest } from '#core/errors';
import { servedFrom } from '#core/limits/guard';
import { parseThreadOf } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { followThread } from './threads';
import { followedStore, threadStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  threads: threadStore(),
  followed: followedStore(),
  now: systemClock,
}));

/** followthread: follow or stop following a thread of the room (threads.ts). */
export const handler = routeHandler('followthread', 'room', (frame) => {
  const seq = parseThreadOf(frame.body.seq);
  if (seq === undefined) throw new BadRequest('"seq" must be the seq of a message in this room.');
  if (typeof frame.body.follow !== 'boolean') throw new BadRequest('"follow" must be true or false.');
  return followThread(servedFrom(deps(), frame), frame.connectionId, { seq, follow: frame.body.follow });
});
