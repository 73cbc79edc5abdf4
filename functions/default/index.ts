import { connectionInfo } from '../shared/connections';
import { onFirstCall } from '../shared/onFirstCall';
import { routeHandler } from '../shared/websocket';
import { connectionStore } from '../shared/wiring/dynamodb';
import { notifier } from '../shared/wiring/managementApi';

const deps = onFirstCall(() => ({ connections: connectionStore(), notifier: notifier() }));

/** $default: anything that is not a known action gets the connection's info and how to use the API. */
export const handler = routeHandler('$default', ({ connectionId }) => connectionInfo(deps(), connectionId));
