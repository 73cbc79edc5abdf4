import { servedFrom } from '#core/limits/guard';
import { lobbyClosed, lobbyUnlisted } from '#core/lobby';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { who } from './rooms';

const deps = onFirstCall(() => ({ connections: connectionStore(), rooms: roomStore() }));

// Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
const lobby = () => ({
  noLobby: lobbyClosed(config.lobbyPolicy()),
  lobbyUnlisted: lobbyUnlisted(config.lobbyPolicy()),
});

export const handler = routeHandler('who', 'room', (frame) =>
  who(servedFrom(deps(), frame), frame.connectionId, lobby()),
);
