import { servedFrom } from '#core/limits/guard';
import { lobbyClosed } from '#core/lobby';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { personGate } from '#core/wiring/guard';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { parseSearch } from './query';
import { search } from './searching';
import { wordIndex } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  words: wordIndex(),
  now: systemClock,
  person: personGate(),
}));

/**
 * search: the messages of the caller's rooms holding every word and prefix of the query, from the sender and in the room
 * it names (query.ts), newest first (searching.ts), within the
 * person's search budget across its connections (PersonSearchRateLimit; personRate.ts). Not a room route: its
 * `roomId` names the one room to search, checked against the connection's rooms by the use case.
 */
export const handler = routeHandler('search', 'connection', async (frame) => {
  const query = parseSearch(frame.body);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  return search(servedFrom(deps(), frame), frame.connectionId, query, {
    sourceIp: identity?.sourceIp,
    // Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
    noLobby: lobbyClosed(settings().LobbyPolicy),
  });
});
