/**
 * A client's message on its way through the stage: route selection with the $default fallback, the route's
 * throttle, a MOCK route's own answer, the integration with its 29-second timeout, and the route response.
 */
import type { RawData } from 'ws';
import type { LocalWait } from '../localWait';
import type { APIGatewayProxyWebsocketEventV2WithHeaders, StageInfo } from './events';
import { messageEvent } from './events';
import { BINARY, errorFields, errorFrame, rawText } from './frames';
import { awsId } from './ids';
import { type Connection, closeByGateway } from './lifecycle';
import { type ReplyLimit, sendWithinLimit } from './messageSize';
import type { GatewayLogLevel, GatewayRoute, LambdaResult } from './options';
import type { RouteSelector } from './routeSelection';

/** What routing a message needs from the stage (stage.ts). */
export interface RoutingHost {
  readonly info: StageInfo;
  readonly routes: ReadonlyMap<string, GatewayRoute>;
  readonly selectRoute: RouteSelector;
  readonly conns: Map<string, Connection>;
  readonly integrationTimeoutMs: number;
  /** The limit on what the stage sends back (messageSize.ts). */
  readonly opts: ReplyLimit;
  readonly stopped: boolean;
  /** Takes a token from the route's bucket; true when the route has no limits. */
  admit(routeKey: string, now?: number): boolean;
  invoke(
    routeKey: string,
    event: APIGatewayProxyWebsocketEventV2WithHeaders,
    startBy?: number,
    wait?: LocalWait,
  ): Promise<LambdaResult | undefined>;
  log(level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>): void;
}

export function routeMessage(host: RoutingHost, conn: Connection, data: RawData, isBinary: boolean): void {
  // A socket the gateway is closing (a frame over the limit) routes nothing more.
  if (host.stopped || conn.closeCause !== undefined) return;
  if (isBinary) {
    closeByGateway(host, conn, BINARY);
    return;
  }
  const now = Date.now();
  conn.lastActiveAt = now;
  const body = rawText(data);
  const route = routeFor(host, body);
  if (route === undefined) {
    sendFrame(host, conn, errorFrame('Forbidden', conn.id, awsId()));
    return;
  }
  if (!host.admit(route.routeKey, now)) {
    sendFrame(host, conn, errorFrame('Too Many Requests', conn.id, awsId()));
    return;
  }
  if (route.mockResponse !== undefined) {
    if (route.twoWay) sendFrame(host, conn, route.mockResponse);
    return;
  }
  const event = messageEvent(host.info, conn, route.routeKey, body, now);
  const requestId = event.requestContext.requestId;
  const clock = new IntegrationClock(now, host.integrationTimeoutMs, (fields) => {
    host.log('warn', 'route integration timed out', {
      routeKey: route.routeKey,
      connectionId: conn.id,
      ...fields,
    });
    sendFrame(host, conn, errorFrame('Endpoint request timed out', conn.id, requestId));
  });
  host.invoke(route.routeKey, event, clock.deadline, clock).then(
    (result) => {
      if (!clock.inTime()) return;
      if (route.twoWay && typeof result?.body === 'string') sendFrame(host, conn, result.body);
    },
    (err: unknown) => {
      if (!clock.inTime()) return;
      host.log('warn', 'route integration failed', {
        routeKey: route.routeKey,
        connectionId: conn.id,
        ...errorFields(err),
      });
      sendFrame(host, conn, errorFrame('Internal server error', conn.id, requestId));
    },
  );
}

/**
 * A route invocation's integration timeout, counted from the frame's arrival. Past it the client hears so, once
 * (`timedOut`), and the function runs on with its late answer dropped: an outcome settled at or after the deadline is
 * never the answer, also when its event runs before the timer's. The time the invocation waits here for a free
 * execution environment is not counted (LocalWait): on AWS it would have started at once.
 */
class IntegrationClock implements LocalWait {
  /** When the client stops waiting; moved later by the invocation's wait here. */
  deadline: number;
  private answered = false;
  private waitingHere = false;
  // When the invocation could run, and how long it waited here for that: a timeout's log says where its time went.
  private startedAt: number | undefined;
  private waitedHereMs = 0;
  private timer: NodeJS.Timeout;

  constructor(
    arrivedAt: number,
    private readonly timeoutMs: number,
    private readonly timedOut: (fields: Record<string, number>) => void,
  ) {
    this.deadline = arrivedAt + timeoutMs;
    this.timer = setTimeout(() => this.onTimer(), timeoutMs);
  }

  queued(): void {
    this.waitingHere = true;
  }

  started(waitedMs: number): void {
    this.waitingHere = false;
    this.startedAt = Date.now();
    this.waitedHereMs = waitedMs;
    if (this.answered) return;
    this.deadline += waitedMs;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, this.deadline - Date.now()));
  }

  /** Whether an outcome settled now is the answer (the timer stops); if it is late, the client hears the timeout. */
  inTime(): boolean {
    if (this.answered) return false;
    if (Date.now() >= this.deadline) {
      this.timeOut();
      return false;
    }
    clearTimeout(this.timer);
    return true;
  }

  // While the invocation waits for an environment the timer does nothing: it is armed again once it starts.
  private onTimer(): void {
    if (!this.waitingHere) this.timeOut();
  }

  private timeOut(): void {
    this.answered = true;
    clearTimeout(this.timer);
    this.timedOut({
      afterMs: this.timeoutMs,
      waitedHereMs: this.waitedHereMs,
      ...(this.startedAt !== undefined && { runningMs: Date.now() - this.startedAt }),
    });
  }
}

function routeFor(host: RoutingHost, body: string): GatewayRoute | undefined {
  const key = host.selectRoute(body);
  // $connect/$disconnect/$default are never selected by a message's own field.
  const named = key !== undefined && !key.startsWith('$') ? host.routes.get(key) : undefined;
  return named ?? host.routes.get('$default');
}

function sendFrame(host: RoutingHost, conn: Connection, text: string): void {
  if (!host.stopped && conn.socket.readyState === 1) sendWithinLimit(conn, text, host.opts);
}
