import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { featureHandler } from '#core/features';
import { type MessageSentEvent, onMessageSent } from './onMessage';
import { handler as pushsubscribe } from './pushsubscribe';
import { handler as pushunsubscribe } from './pushunsubscribe';

/** Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template. */
export const routes = [pushsubscribe, pushunsubscribe];
const served = featureHandler('push', routes);

/**
 * The push feature, one function: its two routes (a browser's subscription stored or removed), routed by route key
 * (core/features.ts), and the chat bus's `MessageSent` events (rule PushOnMessageRule), which send the pushes
 * (notify.ts). An event from the bus carries `detail-type`; a WebSocket route, `requestContext`.
 */
export const handler = (event: APIGatewayProxyWebsocketEventV2 | MessageSentEvent, context?: Context) =>
  'detail-type' in event ? onMessageSent(event, context) : served(event, context);
