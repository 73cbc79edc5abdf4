import { who } from '../shared/chat';
import { routeHandler } from '../shared/websocket';

export const handler = routeHandler('who', (deps, { connectionId }) => who(deps, connectionId));
