import { servedFrom } from '#core/limits/guard';
import { lobbyClosed, lobbyUnlisted } from '#core/lobby';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { who } from './rooms';

const deps = onFirstCall(() => ({ connections: connectionStore(), rooms: roomStore() }));

// Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
const lobby = () => ({
  noLobby: lobbyClosed(settings().LobbyPolicy),
  lobbyUnlisted: lobbyUnlisted(settings().LobbyPolicy),
});

export const handler = routeHandler('who', 'room', (frame) =>
  who(servedFrom(deps(), frame), frame.connectionId, lobby()),
);
