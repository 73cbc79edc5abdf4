import type { Latency } from '../awsProfile';
import type { LocalWait } from '../localWait';
/**
 * What the local WebSocket stage is started with and what it offers: its routes, the integration it calls, its
 * limits and faults (options), and the handle the local cloud and the tests hold (Gateway).
 */
import type { APIGatewayProxyWebsocketEventV2WithHeaders } from './events';
import type { StageThrottling, ThrottleSettings } from './limits';
import type { GatewayStats, ManagementAuth } from './management';

export interface GatewayRoute {
  routeKey: string;
  /** A route with a route response: the integration's `body` goes back to the calling client. */
  twoWay: boolean;
  /** A MOCK integration: the gateway answers with this body itself and invokes nothing (docs/PARITY.md). */
  mockResponse?: string;
}

export interface LambdaResult {
  statusCode?: number;
  body?: string;
  headers?: Record<string, string>;
}

export type GatewayLogLevel = 'info' | 'warn' | 'error';

export interface GatewayFaults {
  /** Delay before each management-API call is answered, mimicking an AWS round trip. */
  apiLatencyMs?: number;
  /** A latency drawn for each management-API call (the AWS profile's `managementPost`); replaces apiLatencyMs. */
  apiLatency?: Latency;
  /** Share 0..1 of management-API POSTs answered 429 LimitExceededException. */
  faultThrottle?: number;
  /**
   * Connection ids whose every management-API POST is answered 500 InternalServerError (a failing part of the
   * service, for a test that one room's failures hold up no other room); replaces the set given before.
   */
  faultFailConnections?: readonly string[];
  /** Share 0..1 of closed sockets whose $disconnect is not invoked (the best-effort event AWS can lose). */
  faultSkipDisconnect?: number;
  /**
   * Milliseconds between a socket's close and its $disconnect (AWS gives no bound; the id answers 410 from the
   * close on, so a fan-out can meet it before $disconnect runs).
   */
  disconnectDelayMs?: number;
}

export interface GatewayOptions extends GatewayFaults {
  /** 0 = any free port. */
  port: number;
  /** Default '127.0.0.1'. */
  host?: string;
  apiId: string;
  /** Clients may connect to `/` or `/<stage>`; the management API lives under `/<stage>/@connections/`. */
  stage: string;
  /** Only `$request.body.<field>` is supported; anything else throws at start. */
  routeSelectionExpression: string;
  routes: GatewayRoute[];
  /**
   * Runs the route's function; rejects when the function failed (error or timeout). `startBy`: when the gateway
   * stops waiting (its integration timeout); absent where nobody waits ($disconnect). `wait`: told of the
   * invocation's wait for a local execution environment, which the timeout does not count (LocalWait).
   */
  invoke(
    routeKey: string,
    event: APIGatewayProxyWebsocketEventV2WithHeaders,
    startBy?: number,
    wait?: LocalWait,
  ): Promise<LambdaResult | undefined>;
  /** Default 10 min, as on AWS. */
  idleTimeoutMs?: number;
  /** Default 2 h, as on AWS. */
  hardTimeoutMs?: number;
  /** Default 32 KB, as on AWS; a larger frame closes the socket with 1009. */
  maxFrameBytes?: number;
  /** Default 128 KB, as on AWS: a larger message from a client closes it with 1009; a larger reply is not sent. */
  maxMessageBytes?: number;
  /**
   * Tests only: schedules a management call's answer once its latency (apiLatencyMs, apiLatency) has passed, so a
   * test of the latency decides when it has; default setTimeout.
   */
  latencyTimer?: (answer: () => void, ms: number) => void;
  /** Default 29 s, as on AWS: past it the client gets `Endpoint request timed out` while the function runs on. */
  integrationTimeoutMs?: number;
  /** Route throttling of the stage (token buckets); a refused message gets AWS's `Too Many Requests` frame. */
  throttling?: StageThrottling;
  /** The account's throttle (limits.ts accountBucket); default AWS's quota. Tests set a small one to reach it. */
  accountThrottling?: ThrottleSettings;
  log?: (level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>) => void;
  /** Checks every management-API caller (the local cloud's IAM); without it the API is open. */
  managementAuth?: ManagementAuth;
}

export interface Gateway {
  /** ws://HOST:PORT/STAGE */
  url: string;
  /** http://HOST:PORT/STAGE, the management API base (CALLBACK_URL). */
  callbackUrl: string;
  port: number;
  connectionCount(): number;
  setFaults(faults: GatewayFaults): void;
  stats(): GatewayStats;
  /** Closes every socket and the server; starts no invocation afterwards (and runs no $disconnect for them). */
  close(): Promise<void>;
}
