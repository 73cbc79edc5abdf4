import { servedFrom } from '../shared/guard';
import { onFirstCall } from '../shared/onFirstCall';
import { who } from '../shared/rooms';
import { routeHandler } from '../shared/websocket';
import { connectionStore } from '../shared/wiring/dynamodb';

const deps = onFirstCall(() => ({ connections: connectionStore() }));

export const handler = routeHandler('who', (frame) => who(servedFrom(deps(), frame), frame.connectionId));
