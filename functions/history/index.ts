import { history } from '../shared/chat';
import { parseHistoryQuery } from '../shared/protocol';
import { routeHandler } from '../shared/websocket';

export const handler = routeHandler('history', (deps, { connectionId, body }) =>
  history(deps, connectionId, parseHistoryQuery(body)),
);
