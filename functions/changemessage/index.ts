import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { changeMessage } from '../shared/changes/changing';
import { parseChangeRequest, parseTargetSeq } from '../shared/changes/parse';
import { systemClock } from '../shared/clock';
import { config } from '../shared/config';
import { servedFrom } from '../shared/guard';
import { admitLobbyPost } from '../shared/lobby';
import { onFirstCall } from '../shared/onFirstCall';
import { logger } from '../shared/powertools';
import { parseClientMsgId } from '../shared/protocol';
import { routeHandler } from '../shared/websocket';
import { changeStore, connectionStore, guardStore, roomStore, sendStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  sends: sendStore(),
  changes: changeStore(),
  events: eventPublisher(),
  now: systemClock,
  messageRetentionDays: config.messageRetentionDays(),
  roomIdleDays: config.roomIdleDays(),
  sendRate: config.sendRate(),
  editWindowMinutes: config.editWindowMinutes(),
}));
const lobby = onFirstCall(() => ({
  policy: config.lobbyPolicy(),
  postRate: config.lobbyPostRate(),
  store: guardStore(),
  now: systemClock,
}));

const CHANGE_ROUTES = ['editmessage', 'deletemessage', 'react'] as const;

/** One route's handler: parse, store the change as a room event (changes/changing.ts), reply `changed`. */
const routes = Object.fromEntries(
  CHANGE_ROUTES.map((action) => [
    action,
    routeHandler(action, async (frame) => {
      const { connectionId, body, signal, event } = frame;
      const { identity } = event.requestContext as { identity?: { sourceIp?: string } };
      const seq = parseTargetSeq(body);
      const request = parseChangeRequest(action, body);
      const changed = await changeMessage(servedFrom(deps(), frame), {
        connectionId,
        seq,
        request,
        clientMsgId: parseClientMsgId(body.clientMsgId),
        signal,
        admitLobbyPost: () => admitLobbyPost(lobby(), identity?.sourceIp),
      });
      logger.info('message changed', {
        roomId: changed.roomId,
        targetSeq: seq,
        seq: changed.seq,
        kind: request.kind,
      });
      return changed;
    }),
  ]),
);

/** editmessage, deletemessage and react: one function, routed by the route key API Gateway names. */
export const handler = (event: APIGatewayProxyWebsocketEventV2, context?: Context) => {
  const route = routes[event.requestContext.routeKey];
  // The template wires only the three routes here; any other key is a wiring mistake, failed loudly.
  if (!route)
    throw new Error(`changemessage serves ${CHANGE_ROUTES.join(', ')}, not ${event.requestContext.routeKey}`);
  return route(event, context);
};
