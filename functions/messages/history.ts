import { servedFrom } from '#core/limits/guard';
import { lobbyClosed } from '#core/lobby';
import { parseHistoryQuery } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { historyPages } from './historyFeatures';
import { featurePage } from './historyPages';
import { messageStore } from './readers';
import { history } from './roomHistory';
import { authorProfiles } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  messages: messageStore(),
  now: systemClock,
  authorProfiles: authorProfiles(),
}));

// Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
const noLobby = () => lobbyClosed(settings().LobbyPolicy);

export const handler = routeHandler('history', 'room', (frame) => {
  const query = parseHistoryQuery(frame.body);
  // A page of a feature's own, when the query asks for one (historyPages.ts); else the room's.
  return (
    featurePage(historyPages(), query, frame) ??
    history(servedFrom(deps(), frame), frame.connectionId, query, { noLobby: noLobby() })
  );
});
