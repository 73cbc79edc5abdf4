import { connectionInfo } from '../shared/chat';
import { routeHandler } from '../shared/websocket';

/** $default: anything that is not a known action gets the connection's info and how to use the API. */
export const handler = routeHandler('$default', (deps, { connectionId }) =>
  connectionInfo(deps, connectionId),
);
