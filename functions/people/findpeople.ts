import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { onFirstCall } from '#platform/onFirstCall';
import { findPeople, parsePeopleQuery } from './people';
import { avatarSigner, peopleStore, profileReader } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  people: peopleStore(),
  profiles: profileReader(),
  avatars: avatarSigner(),
}));

/**
 * findpeople: signed-in users the caller shares a room with, by the start of their name (functions/people/
 * people.ts). Every frame counts against the connection's frame budget (routeHandler, guard.ts) as `who` does.
 */
export const handler = routeHandler('findpeople', 'connection', (frame) =>
  findPeople(servedFrom(deps(), frame), frame.connectionId, parsePeopleQuery(frame.body)),
);
