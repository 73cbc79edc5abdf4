import { leaveRoom } from '../shared/chat';
import { routeHandler } from '../shared/websocket';

export const handler = routeHandler('leaveroom', (deps, { connectionId }) => leaveRoom(deps, connectionId));
