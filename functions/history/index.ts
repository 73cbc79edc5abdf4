import { servedFrom } from '../shared/guard';
import { onFirstCall } from '../shared/onFirstCall';
import { parseHistoryQuery } from '../shared/protocol';
import { history } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore, messageStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({ connections: connectionStore(), messages: messageStore() }));

export const handler = routeHandler('history', (frame) =>
  history(servedFrom(deps(), frame), frame.connectionId, parseHistoryQuery(frame.body)),
);
