import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { myThreads } from './followedThreads';
import { followedStore, threadStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  threads: threadStore(),
  followed: followedStore(),
  now: systemClock,
}));

/**
 * mythreads: the threads the caller follows across its rooms, newest activity first, with their unread replies
 * (followedThreads.ts). Not a room route: it names no room.
 */
export const handler = routeHandler('mythreads', 'connection', (frame) =>
  myThreads(servedFrom(deps(), frame), frame.connectionId),
);
