import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { logger } from '#platform/powertools';
import type { Action, OneWayAction } from '#protocol';
import { ChatError, toErrorFrame } from './errors';

/** One route's Lambda entry point, as `routeHandler` (websocket.ts) or a handshake route builds it. */
type RouteEntry = (
  event: APIGatewayProxyWebsocketEventV2,
  context?: Context,
) => Promise<APIGatewayProxyResultV2> | APIGatewayProxyResultV2;

/**
 * What a route's frame acts on, declared with the route (routeHandler's second argument): `room`, the shown room or
 * any room the connection follows that the frame names (`roomId`); `connection`, the connection itself or a room it
 * names for its own reason (`leaveroom` names the room it ends, functions/rooms/leaveroom.ts; `joinroom` one to
 * enter). A route must say which: one left out of a hand-kept list would silently act in the shown room instead.
 */
export type RouteScope = 'room' | 'connection';

/** A route key a feature serves: an action of the protocol, or one of the three the gateway itself names. */
export type RouteKey = Action | OneWayAction | '$connect' | '$disconnect' | '$default';

/**
 * A route, declared once where its entry is built (`routeHandler`, websocket.ts, or `declareRoute` for a handshake
 * route): its key, its entry point, its scope and the seconds it answers within (its budget). Its request and reply
 * types follow from its key (protocol/index.ts RequestOf, ReplyOf), and the Lambda hosting it from the route table
 * that gathers it (the `routes` of the index.ts a template function is built from). template.yaml's route lists are
 * written from these (its resource name is its request type's: SlowModeRequest, SlowModeRoute), and
 * tests/template/routes.test.ts holds the template, the protocol, AsyncAPI and the docs to them.
 */
export interface Route {
  (event: APIGatewayProxyWebsocketEventV2, context?: Context): Promise<APIGatewayProxyResultV2>;
  readonly key: RouteKey;
  /** What its frame acts on (websocket.ts RouteScope); absent for a route that reads no frame ($connect, $disconnect). */
  readonly scope?: RouteScope;
  /** The seconds the route answers within: ROUTE_SECONDS unless declared longer (its function's Timeout is at least that). */
  readonly seconds: number;
}

/**
 * The seconds a route answers within unless its declaration says longer: the template's Globals `Timeout`
 * (tests/template/features.test.ts holds the two together). A route keeps the budget it had as a function of its
 * own when its feature's function is given a longer `Timeout` for another route.
 */
export const ROUTE_SECONDS = 10;

/** A route from an entry point built elsewhere ($connect and $disconnect, a one-way route's wrapper). */
export function declareRoute(
  key: RouteKey,
  entry: RouteEntry,
  seconds: number = ROUTE_SECONDS,
  scope?: RouteScope,
): Route {
  const route = async (event: APIGatewayProxyWebsocketEventV2, context?: Context) => entry(event, context);
  return Object.assign(route, { key, seconds, ...(scope && { scope }) });
}

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
 * Gateway names (`requestContext.routeKey`). The template wires only the list's routes to the function; a route
 * key missing from it is a wiring mistake, answered with an INTERNAL error frame (and logged as an error) rather
 * than a crash the client would see as `Internal server error`. A key listed twice is refused when the module loads.
 */
export function featureHandler(feature: string, routes: readonly Route[]) {
  const byKey = new Map<string, Route>();
  for (const route of routes) {
    if (byKey.has(route.key)) throw new Error(`${feature} lists route ${route.key} twice`);
    byKey.set(route.key, route);
  }
  return async (
    event: APIGatewayProxyWebsocketEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyResultV2> => {
    const routeKey = event.requestContext.routeKey;
    const route = byKey.get(routeKey);
    if (!route) {
      logger.error('route not served by this function', { feature, routeKey, served: [...byKey.keys()] });
      const unserved = new ChatError('INTERNAL', 500, `${feature} serves no route ${routeKey}`, {
        publicMessage: `The action "${routeKey}" is not available. Please try again later.`,
        fault: 'server',
      });
      return { statusCode: 200, body: JSON.stringify(toErrorFrame(unserved, routeKey)) };
    }
    return route(event, budgeted(context, route.seconds));
  };
}
