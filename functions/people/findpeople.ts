import { servedFrom } from '../domain/limits/guard';
import { findPeople, parsePeopleQuery } from '../domain/rooms/people';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore, peopleStore } from '../platform/wiring/dynamodb';

const deps = onFirstCall(() => ({ connections: connectionStore(), people: peopleStore() }));

/**
 * findpeople: signed-in users the caller shares a room with, by the start of their name (functions/domain/rooms/
 * people.ts). Every frame counts against the connection's frame budget (routeHandler, guard.ts) as `who` does.
 */
export const handler = routeHandler('findpeople', (frame) =>
  findPeople(servedFrom(deps(), frame), frame.connectionId, parsePeopleQuery(frame.body)),
);
