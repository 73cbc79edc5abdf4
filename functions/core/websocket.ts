import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { admitFrame, strike } from '#core/limits/guard';
import { connectionStore } from '#core/wiring/dynamodb';
import { guard } from '#core/wiring/guard';
import { instrumented } from '#platform/invocation';
import { onFirstCall } from '#platform/onFirstCall';
import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import {
  type Action,
  type InfoFrame,
  isRequestToken,
  normalizeRoomId,
  type OneWayAction,
  type ReplyOf,
  type RequestOf,
} from '#protocol';
import {
  BadRequest,
  Busy,
  busyFrom,
  type ChatError,
  describeError,
  NotSubscribed,
  PublishFailed,
  type RequestIds,
  toErrorFrame,
} from './errors';
import { declareRoute, ROUTE_SECONDS, type Route, type RouteKey, type RouteScope } from './features';
import type { Connection, Subscribed } from './ports';
import { parseBody } from './protocol';

/**
 * The fields of a route's request as they arrive, each possibly missing or of another type until parsed: the
 * protocol's request for an action (protocol/index.ts RequestOf), so reading a field the protocol does not give the
 * action fails `tsc`; any JSON object for `$default`.
 */
type RequestBody<K extends RouteKey> = K extends Action | OneWayAction
  ? { [F in keyof RequestOf<K>]?: unknown }
  : Record<string, unknown>;

/**
 * What a route's handler answers: the protocol's reply frame for an action (protocol/index.ts ReplyOf), the
 * connection's info for `$default`, nothing for a one-way action (its reply is never sent).
 */
type RouteReply<K extends RouteKey> = K extends Action
  ? ReplyOf<K>
  : K extends OneWayAction
    ? Record<string, never>
    : InfoFrame;

interface FrameRequest<K extends RouteKey = RouteKey> {
  connectionId: string;
  body: RequestBody<K>;
  event: APIGatewayProxyWebsocketEventV2;
  /** Aborted once the route has answered Busy: work still running must not start what a retry would repeat. */
  signal?: AbortSignal;
  /** When the function times out (epoch ms); absent without a Lambda context. */
  deadline?: number;
  /**
   * The connection as the frame count (guard.ts) left it, as seen in the room the frame acts in (`room`); absent when
   * frames are not limited. `servedFrom` lets the use case's own read of the connection use it, so counting the frame
   * costs no extra round trip.
   */
  admitted?: Connection;
  /**
   * A room route's frame naming a followed room other than the shown one: that room and the name the connection
   * shows there. Every read of the connection in this frame sees it in that room (servedFrom).
   */
  room?: Subscribed;
}

/**
 * The scopes a route may declare: `room` only when its protocol request names a room (`roomId`), the field the entry
 * point reads for it (roomNamed below), so the protocol says every room route's frame may name one.
 */
type ScopeOf<K extends RouteKey> = K extends Action | OneWayAction
  ? 'roomId' extends keyof RequestOf<K>
    ? RouteScope
    : 'connection'
  : RouteScope;

/** A route's use case: its protocol request in, its protocol reply out (protocol/index.ts). */
type FrameHandler<K extends RouteKey = RouteKey> = (request: FrameRequest<K>) => Promise<RouteReply<K>>;

/**
 * Logs and counts a failed frame: the client's mistakes at info, ours as errors with their stack. A refusal for
 * going too fast, a malformed frame or a failed join is a strike on the connection; at the strike limit it is closed
 * (guard.ts).
 */
async function recordFailure(error: unknown, connectionId: string, action: string): Promise<void> {
  const described = describeError(error);
  if (described.fault === 'client') {
    logger.info('frame rejected', { code: described.code, reason: described.message });
    metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
    if ((await strike(guard(), connectionId, described, action)) === 'closed')
      logger.warn('connection closed for abuse', { code: described.code });
  } else if (error instanceof PublishFailed) {
    logger.error('publishing to the chat bus failed', error);
    metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
  } else {
    logger.error('route failed', error as Error);
  }
}

interface RouteOptions {
  /**
   * The seconds the route answers within, when more than ROUTE_SECONDS (core/features.ts): its function's Timeout in
   * template.yaml is at least that (tests/template/routes.test.ts).
   */
  seconds?: number;
  /** The error a frame that is not a JSON object gets instead of the generic BAD_REQUEST (the $default route). */
  notJson?: (connectionId: string, admitted?: Connection) => Promise<ChatError>;
}

/** The ids a frame names itself by, echoed in its reply and its error frame; malformed ids are not echoed. */
function requestIds(body: Record<string, unknown>): RequestIds {
  const { requestId, clientMsgId } = body;
  return {
    ...(isRequestToken(requestId) && { requestId }),
    ...(isRequestToken(clientMsgId) && { clientMsgId }),
  };
}

/**
 * A route answers at the latest this long before its function's timeout: a slow moment (a throttled table, a busy
 * bus) becomes a retryable error frame instead of the gateway's `Internal server error` after the timeout.
 * Exported for tests: deadline.test.ts runs a route up to the margin.
 */
export const REPLY_MARGIN_MS = 1500;

/** The work's result, or Busy when it would not finish before the function's timeout (the work is not awaited). */
async function beforeTimeout<T>(work: Promise<T>, context?: Context, abandon?: AbortController): Promise<T> {
  if (!context) return work;
  // If the work fails after the reply went out, that failure must not surface as an unhandled rejection.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandon?.abort();
      reject(new Busy());
    }, context.getRemainingTimeInMillis() - REPLY_MARGIN_MS);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export type { RouteScope } from './features';

const connections = onFirstCall(connectionStore);

/**
 * The room a room route's frame acts in: the one it names (`roomId`) when the connection follows it (its subscription,
 * read strongly consistent: a `subscribe` or join just answered is seen), never carried out in the shown room
 * instead; NOT_SUBSCRIBED for a room it does not follow. A frame without `roomId`, or naming the shown room, is about
 * the shown room and costs no read. Returns the room and the name the connection shows there, or undefined for the
 * shown room.
 */
async function roomNamed(
  scope: RouteScope,
  body: Record<string, unknown>,
  connectionId: string,
  admitted: Connection | undefined,
): Promise<Subscribed | undefined> {
  const named = body.roomId;
  if (scope !== 'room' || named === undefined) return undefined;
  if (typeof named !== 'string') throw new BadRequest('"roomId" must be a room code.');
  const roomId = normalizeRoomId(named);
  if (roomId === undefined) throw new BadRequest('"roomId" must be a room code.');
  if (roomId === admitted?.roomId) return undefined;
  const followed = await connections().subscription(connectionId, roomId);
  if (!followed) throw new NotSubscribed(roomId);
  return followed;
}

/**
 * Declares a two-way route, the one place its facts are said: its key (`action`), its scope, its budget
 * (`options.seconds`) and its use case. The entry point parses the frame, runs the use case, and returns the reply
 * frame as the route response. Every failure becomes an error frame with a short sentence; the detail goes to the log.
 */
export function routeHandler<K extends RouteKey>(
  action: K,
  scope: ScopeOf<K>,
  handle: FrameHandler<K>,
  options: RouteOptions = {},
): Route {
  const entry = instrumented(
    async (event: APIGatewayProxyWebsocketEventV2, context?: Context): Promise<APIGatewayProxyResultV2> => {
      const { connectionId, requestId } = event.requestContext;
      logger.appendKeys({ connectionId, action, requestId });
      let ids: RequestIds = {};
      try {
        const frame = readFrame(event.body);
        if ('body' in frame) ids = requestIds(frame.body);
        const abandon = new AbortController();
        const deadline = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
        const work = async () => {
          // Every frame of every route counts against the connection's budget (guard.ts) before anything else is
          // done for it, even one that is not JSON; its refusal still names the request.
          const admitted = await admitFrame(guard(), connectionId);
          if (!('body' in frame)) throw (await options.notJson?.(connectionId, admitted)) ?? frame.error;
          const { body } = frame;
          const room = await roomNamed(scope, body, connectionId, admitted);
          return handle({
            connectionId,
            // Every field of a RequestBody is optional and of unknown type: any JSON object is one.
            body: body as RequestBody<K>,
            event,
            admitted: admitted && room ? { ...admitted, ...room } : admitted,
            ...(room && { room }),
            signal: abandon.signal,
            deadline,
          });
        };
        const reply = await beforeTimeout(work(), context, abandon);
        const echoed = ids.requestId === undefined ? reply : { ...reply, requestId: ids.requestId };
        return { statusCode: 200, body: JSON.stringify(echoed) };
      } catch (thrown) {
        // A limit met for now (the deadline, DynamoDB throttling, an item held by transactions) is BUSY, retryable.
        const busy = busyFrom(thrown);
        const error = busy ?? thrown;
        if (busy) {
          logger.warn(`answered busy: ${busy.limit}`, {
            limit: busy.limit,
            remainingMs: context?.getRemainingTimeInMillis(),
          });
          metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
        } else await recordFailure(error, connectionId, action);
        return { statusCode: 200, body: JSON.stringify(toErrorFrame(error, action, ids)) };
      }
    },
  );
  return declareRoute(action, entry, options.seconds ?? ROUTE_SECONDS, scope);
}

/** The frame as a JSON object, or why it is not one. */
function readFrame(body: string | undefined): { body: Record<string, unknown> } | { error: unknown } {
  try {
    return { body: parseBody(body) };
  } catch (error) {
    return { error };
  }
}
