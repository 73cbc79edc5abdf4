/**
 * A local API Gateway WebSocket API stage on `ws`: $connect before the upgrade, route selection with $default
 * fallback, two-way route replies, $disconnect on close, and the `@connections` management API on the same port
 * with the status codes and error types the real `@aws-sdk/client-apigatewaymanagementapi` understands.
 * No AWS tool emulates this, and the handlers and the fan-out must run against the real contract.
 *
 * The stage (stage.ts) hands each concern to a module of this folder: the handshake and $connect (handshake.ts),
 * a message's route and integration (routing.ts), a connection's life and $disconnect (lifecycle.ts), the
 * management API (management.ts), the limits (limits.ts, messageSize.ts) and the events the functions get (events.ts).
 */
import type { Gateway, GatewayOptions } from './options';
import { Stage } from './stage';

export type {
  APIGatewayProxyWebsocketEventV2WithHeaders,
  WebsocketIdentity,
  WebsocketRequestContext,
} from './events';
export type { StageThrottling, ThrottleSettings } from './limits';
export type { GatewayStats } from './management';
export type {
  Gateway,
  GatewayFaults,
  GatewayLogLevel,
  GatewayOptions,
  GatewayRoute,
  LambdaResult,
} from './options';

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const stage = new Stage(opts);
  await stage.listen(opts.port, opts.host ?? '127.0.0.1');
  return stage.facade();
}
