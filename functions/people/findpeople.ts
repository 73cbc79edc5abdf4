import { requireConnection } from '#core/identity/connections';
import { servedFrom } from '#core/limits/guard';
import { takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { personGate } from '#core/wiring/guard';
import { onFirstCall } from '#platform/onFirstCall';
import { findPeople, parsePeopleQuery } from './people';
import { avatarSigner, peopleStore, profileReader } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  people: peopleStore(),
  profiles: profileReader(),
  avatars: avatarSigner(),
  person: personGate(),
}));

/**
 * findpeople: signed-in users the caller shares a room with, by the start of their name (functions/people/
 * people.ts). Every frame counts against the connection's frame budget (routeHandler, guard.ts) and, as one costs up
 * to 1 + 20 rooms × 12 shards = 241 Queries, against the person's budget across its connections
 * (PersonPeopleRateLimit; personRate.ts) before any of them.
 */
export const handler = routeHandler('findpeople', 'connection', async (frame) => {
  const query = parsePeopleQuery(frame.body);
  const ports = servedFrom(deps(), frame);
  const caller = await requireConnection(ports, frame.connectionId);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  await takePersonToken(ports.person, 'people', limitOwner(caller.userId, identity?.sourceIp));
  return findPeople(ports, frame.connectionId, query);
});
