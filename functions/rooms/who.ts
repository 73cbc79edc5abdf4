import { servedFrom } from '../domain/limits/guard';
import { lobbyClosed, lobbyUnlisted } from '../domain/rooms/lobby';
import { who } from '../domain/rooms/rooms';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { routeHandler } from '../platform/websocket';
import { connectionStore } from '../platform/wiring/dynamodb';

const deps = onFirstCall(() => ({ connections: connectionStore() }));

// Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
const lobby = () => ({
  noLobby: lobbyClosed(config.lobbyPolicy()),
  lobbyUnlisted: lobbyUnlisted(config.lobbyPolicy()),
});

export const handler = routeHandler('who', (frame) =>
  who(servedFrom(deps(), frame), frame.connectionId, lobby()),
);
