import { servedFrom } from '../domain/limits/guard';
import { lobbyClosed } from '../domain/rooms/lobby';
import { history } from '../domain/rooms/rooms';
import { systemClock } from '../platform/clock';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { parseHistoryQuery } from '../platform/protocol';
import { routeHandler } from '../platform/websocket';
import { connectionStore, messageStore } from '../platform/wiring/dynamodb';

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
