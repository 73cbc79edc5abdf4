import { servedFrom } from '#core/limits/guard';
import { lobbyClosed } from '#core/lobby';
import { parseHistoryQuery } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { history } from '#rooms/rooms';
import { messageStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  messages: messageStore(),
  now: systemClock,
}));

// Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
const noLobby = () => lobbyClosed(config.lobbyPolicy());

export const handler = routeHandler('history', (frame) =>
  history(servedFrom(deps(), frame), frame.connectionId, parseHistoryQuery(frame.body), {
    noLobby: noLobby(),
  }),
);
