import { config } from '../shared/config';
import { servedFrom } from '../shared/guard';
import { lobbyClosed } from '../shared/lobby';
import { onFirstCall } from '../shared/onFirstCall';
import { who } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({ connections: connectionStore() }));

const noLobby = onFirstCall(() => lobbyClosed(config.lobbyPolicy()));

export const handler = routeHandler('who', (frame) =>
  who(servedFrom(deps(), frame), frame.connectionId, { noLobby: noLobby() }),
);
