import { config } from '../shared/config';
import { servedFrom } from '../shared/guard';
import { lobbyClosed, lobbyUnlisted } from '../shared/lobby';
import { onFirstCall } from '../shared/onFirstCall';
import { who } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({ connections: connectionStore() }));

const lobby = onFirstCall(() => ({
  noLobby: lobbyClosed(config.lobbyPolicy()),
  lobbyUnlisted: lobbyUnlisted(config.lobbyPolicy()),
}));

export const handler = routeHandler('who', (frame) =>
  who(servedFrom(deps(), frame), frame.connectionId, lobby()),
);
