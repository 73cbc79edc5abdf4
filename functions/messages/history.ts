import { servedFrom } from '#core/limits/guard';
import { lobbyClosed } from '#core/lobby';
import { parseHistoryQuery } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { messageStore } from './readers';
import { history } from './roomHistory';
import { threadHistory } from './threads/threads';
import { threadStore } from './threads/wiring';
import { authorProfiles } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  messages: messageStore(),
  threads: threadStore(),
  now: systemClock,
  authorProfiles: authorProfiles(),
}));

// Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
const noLobby = () => lobbyClosed(settings().LobbyPolicy);

export const handler = routeHandler('history', 'room', (frame) => {
  const query = parseHistoryQuery(frame.body);
  // A thread's page (threadOf): its replies, with its root (threads.ts).
  if (query.threadOf !== undefined)
    return threadHistory(servedFrom(deps(), frame), frame.connectionId, {
      ...query,
      threadOf: query.threadOf,
    });
  return history(servedFrom(deps(), frame), frame.connectionId, query, { noLobby: noLobby() });
});
