import { systemClock } from '../shared/clock';
import { config } from '../shared/config';
import { servedFrom } from '../shared/guard';
import { lobbyClosed } from '../shared/lobby';
import { onFirstCall } from '../shared/onFirstCall';
import { parseHistoryQuery } from '../shared/protocol';
import { history } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore, messageStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  messages: messageStore(),
  now: systemClock,
}));

const noLobby = onFirstCall(() => lobbyClosed(config.lobbyPolicy()));

export const handler = routeHandler('history', (frame) =>
  history(servedFrom(deps(), frame), frame.connectionId, parseHistoryQuery(frame.body), {
    noLobby: noLobby(),
  }),
);
