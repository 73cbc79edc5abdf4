import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { logger } from '#platform/powertools';
import { ChatError, toErrorFrame } from './errors';

/** One route's Lambda entry point, as `routeHandler` (websocket.ts) or a handshake route builds it. */
export type RouteEntry = (
  event: APIGatewayProxyWebsocketEventV2,
  context?: Context,
) => Promise<APIGatewayProxyResultV2> | APIGatewayProxyResultV2;

/**
 * A route of a feature's table: its entry point, and the seconds it answers within when that is not
 * `ROUTE_SECONDS` (then its function's `Timeout` in template.yaml is at least that long).
 */
export type FeatureRoute = RouteEntry | { entry: RouteEntry; seconds: number };

/**
 * The seconds a route answers within unless its feature's table says longer: the template's Globals `Timeout`
 * (tests/template/features.test.ts holds the two together). A route keeps the budget it had as a function of its
 * own when its feature's function is given a longer `Timeout` for another route.
 */
export const ROUTE_SECONDS = 10;

/** `context` as a route of `seconds` sees it: its remaining time never more than that budget from now. */
function budgeted(context: Context | undefined, seconds: number): Context | undefined {
  if (!context || typeof context.getRemainingTimeInMillis !== 'function') return context;
  const ends = Date.now() + Math.min(context.getRemainingTimeInMillis(), seconds * 1000);
  const limited = Object.create(context) as Context;
  limited.getRemainingTimeInMillis = () => Math.max(0, ends - Date.now());
  return limited;
}

/**
 * The Lambda entry point of a feature: one function serving several routes, each found by the route key API
 * Gateway names (`requestContext.routeKey`). The template wires only the table's routes to the function; a route
 * key missing from it is a wiring mistake, answered with an INTERNAL error frame (and logged as an error) rather
 * than a crash the client would see as `Internal server error`.
 */
export function featureHandler(feature: string, routes: Record<string, FeatureRoute>) {
  return async (
    event: APIGatewayProxyWebsocketEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyResultV2> => {
    const routeKey = event.requestContext.routeKey;
    const route = Object.hasOwn(routes, routeKey) ? routes[routeKey] : undefined;
    if (!route) {
      logger.error('route not served by this function', { feature, routeKey, served: Object.keys(routes) });
      const unserved = new ChatError('INTERNAL', 500, `${feature} serves no route ${routeKey}`, {
        publicMessage: `The action "${routeKey}" is not available. Please try again later.`,
        fault: 'server',
      });
      return { statusCode: 200, body: JSON.stringify(toErrorFrame(unserved, routeKey)) };
    }
    if (typeof route === 'function') return route(event, budgeted(context, ROUTE_SECONDS));
    return route.entry(event, budgeted(context, route.seconds));
  };
}
