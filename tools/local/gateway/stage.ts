/**
 * One stage of the local WebSocket API: it holds the live connections and the stage's settings, serves plain HTTP
 * (the management API, or a refusal) and upgrades, and hands each concern to its module: the handshake and $connect
 * (handshake.ts), a message's route (routing.ts), a connection's life and $disconnect (lifecycle.ts).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { Latency } from '../awsProfile';
import type { LocalWait } from '../localWait';
import type { APIGatewayProxyWebsocketEventV2WithHeaders, StageInfo } from './events';
import { ABNORMAL, checkShare, DELETED, GOING_AWAY } from './frames';
import { checkHandshake, type HandshakeHost, refuse, runConnect } from './handshake';
import { awsId } from './ids';
import {
  type Connection,
  type ConnectionInfo,
  closeByGateway,
  type LifecycleHost,
  register,
  runDisconnect,
  sweep,
} from './lifecycle';
import { accountBucket, routeBuckets, type TokenBucket } from './limits';
import type { GatewayStats, LiveConnection, ManagementHost, RequestHandler } from './management';
import { createManagementApi, noStats, sendError } from './management';
import type {
  Gateway,
  GatewayFaults,
  GatewayLogLevel,
  GatewayOptions,
  GatewayRoute,
  LambdaResult,
} from './options';
import type { RouteSelector } from './routeSelection';
import { compileRouteSelection } from './routeSelection';
import { type RoutingHost, routeMessage } from './routing';
import { gatewayServer } from './server';

const DEFAULT_IDLE_MS = 10 * 60 * 1000;
const DEFAULT_HARD_MS = 2 * 60 * 60 * 1000;
const DEFAULT_MAX_FRAME = 32 * 1024;
const DEFAULT_MAX_MESSAGE = 128 * 1024;
/** API Gateway's integration timeout (29 s): past it the client gets `Endpoint request timed out`. Exported for the bench. */
export const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;
/** How long close() lets clients answer the close handshake before cutting their sockets. */
const CLOSE_GRACE_MS = 1000;

export class Stage implements ManagementHost, HandshakeHost, RoutingHost, LifecycleHost {
  readonly stage: string;
  readonly stats: GatewayStats = noStats();
  readonly faults: {
    apiLatencyMs: number;
    apiLatency?: Latency;
    faultThrottle: number;
    failing: ReadonlySet<string>;
    faultSkipDisconnect: number;
    disconnectDelayMs: number;
  } = { apiLatencyMs: 0, faultThrottle: 0, failing: new Set(), faultSkipDisconnect: 0, disconnectDelayMs: 0 };
  readonly conns = new Map<string, Connection>();
  readonly pending = new Set<Duplex>();
  readonly protocols = new WeakMap<IncomingMessage, string>();
  readonly routes: Map<string, GatewayRoute>;
  readonly selectRoute: RouteSelector;
  readonly info: StageInfo;
  private readonly server = gatewayServer((req, res) => this.onRequest(req, res));
  private readonly wss: WebSocketServer;
  private readonly management: RequestHandler;
  readonly idleMs: number;
  readonly hardMs: number;
  readonly maxFrameBytes: number;
  readonly integrationTimeoutMs: number;
  private readonly buckets: Map<string, TokenBucket>;
  /** The account's requests (limits.ts accountBucket): routes, handshakes and `@connections` calls together. */
  private readonly account: TokenBucket;
  readonly sockets = new Set<WebSocket>();
  private sweeper: NodeJS.Timeout | undefined;
  stopped = false;
  private closed: Promise<void> | undefined;
  port = 0;
  private host = '127.0.0.1';

  constructor(readonly opts: GatewayOptions) {
    this.selectRoute = compileRouteSelection(opts.routeSelectionExpression);
    if (!/^[A-Za-z0-9_-]+$/.test(opts.stage)) throw new Error(`Invalid stage name '${opts.stage}'`);
    this.stage = opts.stage;
    // Built after `stage` is set: the handler precomputes its path prefixes from it.
    this.management = createManagementApi(this, opts.managementAuth);
    this.routes = new Map(opts.routes.map((route) => [route.routeKey, route]));
    this.info = { apiId: opts.apiId, stage: opts.stage, domainName: `${opts.apiId}.execute-api.local` };
    this.idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    this.hardMs = opts.hardTimeoutMs ?? DEFAULT_HARD_MS;
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME;
    this.integrationTimeoutMs = opts.integrationTimeoutMs ?? DEFAULT_INTEGRATION_TIMEOUT_MS;
    this.buckets = routeBuckets([...this.routes.keys()], opts.throttling, Date.now());
    this.account = accountBucket(Date.now(), opts.accountThrottling);
    this.setFaults(opts);
    this.wss = new WebSocketServer({
      noServer: true,
      // Connections are tracked here (the gateway needs them by id); compression would cost memory per socket.
      clientTracking: false,
      perMessageDeflate: false,
      // Bounds a whole message (its frames together); each frame's own limit is checked in register().
      maxPayload: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE,
      // Without this hook ws would pick the client's first sub-protocol itself; on AWS only $connect can accept one.
      handleProtocols: (offered, req) => {
        const chosen = this.protocols.get(req);
        return chosen !== undefined && offered.has(chosen) ? chosen : false;
      },
    });
    // Long keep-alive so the SDK's pooled sockets are not closed under it between bursts of posts.
    this.server.keepAliveTimeout = 60_000;
    this.server.headersTimeout = 65_000;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.onUpgrade(req, socket, head);
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.host = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    // One sweep for every socket instead of two timers per connection: 5,000 idle sockets must stay cheap.
    const every = Math.max(20, Math.min(1000, Math.floor(Math.min(this.idleMs, this.hardMs) / 4)));
    this.sweeper = setInterval(() => sweep(this), every);
    this.sweeper.unref();
    this.log('info', 'gateway listening', { url: this.url(), routes: [...this.routes.keys()] });
  }

  facade(): Gateway {
    return {
      url: this.url(),
      callbackUrl: `http://${this.host}:${this.port}/${this.stage}`,
      port: this.port,
      connectionCount: () => this.conns.size,
      setFaults: (faults) => this.setFaults(faults),
      stats: () => ({ ...this.stats }),
      close: () => this.close(),
    };
  }

  lookup(id: string): LiveConnection | undefined {
    return this.conns.get(id);
  }

  remove(conn: LiveConnection): void {
    const live = this.conns.get(conn.id);
    if (live !== undefined) closeByGateway(this, live, DELETED);
  }

  onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    routeMessage(this, conn, data, isBinary);
  }

  /** Takes a token from the account's bucket, then the route's; true when both have one. */
  admit(routeKey: string, now = Date.now()): boolean {
    return this.account.take(now) && (this.buckets.get(routeKey)?.take(now) ?? true);
  }

  /** Takes a token from the account's bucket for a management-API call. */
  afterMs(answer: () => void, ms: number): void {
    if (this.opts.latencyTimer) this.opts.latencyTimer(answer, ms);
    else setTimeout(answer, ms);
  }

  admitCall(now = Date.now()): boolean {
    return this.account.take(now);
  }

  /** A synchronous throw from `invoke` counts as a failed function, like a rejection. */
  invoke(
    routeKey: string,
    event: APIGatewayProxyWebsocketEventV2WithHeaders,
    startBy?: number,
    wait?: LocalWait,
  ): Promise<LambdaResult | undefined> {
    try {
      return this.opts.invoke(routeKey, event, startBy, wait);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  log(level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>): void {
    this.opts.log?.(level, msg, fields);
  }

  private url(): string {
    return `ws://${this.host}:${this.port}/${this.stage}`;
  }

  private setFaults(faults: GatewayFaults): void {
    const { apiLatencyMs, faultThrottle, faultSkipDisconnect, disconnectDelayMs } = faults;
    if (apiLatencyMs !== undefined && !(apiLatencyMs >= 0 && Number.isFinite(apiLatencyMs))) {
      throw new RangeError(`apiLatencyMs must be a finite number >= 0, got ${apiLatencyMs}`);
    }
    if (disconnectDelayMs !== undefined && !(disconnectDelayMs >= 0 && Number.isFinite(disconnectDelayMs))) {
      throw new RangeError(`disconnectDelayMs must be a finite number >= 0, got ${disconnectDelayMs}`);
    }
    checkShare('faultThrottle', faultThrottle);
    checkShare('faultSkipDisconnect', faultSkipDisconnect);
    if (apiLatencyMs !== undefined) this.faults.apiLatencyMs = apiLatencyMs;
    if (faults.apiLatency !== undefined) this.faults.apiLatency = faults.apiLatency;
    if (faultThrottle !== undefined) this.faults.faultThrottle = faultThrottle;
    if (faultSkipDisconnect !== undefined) this.faults.faultSkipDisconnect = faultSkipDisconnect;
    if (disconnectDelayMs !== undefined) this.faults.disconnectDelayMs = disconnectDelayMs;
    if (faults.faultFailConnections !== undefined) this.faults.failing = new Set(faults.faultFailConnections);
  }

  // ------------------------------------------------------------------ plain HTTP: the management API

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.management(req, res)) return;
    if (req.method === 'GET' && this.isSocketPath(req.url ?? '')) {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'Upgrade' });
      res.end('Upgrade Required');
      return;
    }
    sendError(res, 403, 'ForbiddenException', 'Forbidden');
  }

  private isSocketPath(url: string): boolean {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return path === '/' || path === `/${this.stage}` || path === `/${this.stage}/`;
  }

  // ------------------------------------------------------------------ the upgrade

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refusal = this.stopped ? 503 : checkHandshake(req, this.isSocketPath(req.url ?? ''));
    if (refusal !== undefined) {
      refuse(this, socket, refusal, refusal === 403 ? '{"message":"Forbidden"}' : '');
      return;
    }
    if (!this.admit('$connect')) {
      refuse(this, socket, 429, '{"message":"Too Many Requests"}');
      return;
    }
    const now = Date.now();
    const conn: ConnectionInfo = {
      id: this.newId(),
      connectedAt: now,
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      userAgent: req.headers['user-agent'] ?? '',
    };
    if (this.routes.has('$connect')) {
      const allowed = await runConnect(this, req, socket, conn, now);
      if (!allowed) return;
    }
    this.accept(req, socket, head, conn);
  }

  private accept(req: IncomingMessage, socket: Duplex, head: Buffer, info: ConnectionInfo): void {
    if (socket.destroyed || !socket.writable) {
      // The client left while $connect ran; AWS still reports the end so the handler can undo its $connect.
      runDisconnect(this, { ...info, lastActiveAt: info.connectedAt }, ABNORMAL);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => register(this, ws, socket, info));
  }

  private newId(): string {
    let id = awsId();
    // 88 random bits make a clash all but impossible; the check keeps ids unique among live connections anyway.
    while (this.conns.has(id)) id = awsId();
    return id;
  }

  // ------------------------------------------------------------------ closing the stage

  private close(): Promise<void> {
    this.stopped = true;
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    for (const socket of this.pending) socket.destroy();
    const sockets = [...this.sockets];
    this.conns.clear();
    const closed = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
    for (const ws of sockets) ws.close(GOING_AWAY.code, GOING_AWAY.reason);
    const grace = setTimeout(() => {
      for (const ws of sockets) ws.terminate();
    }, CLOSE_GRACE_MS);
    await Promise.all(closed);
    clearTimeout(grace);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.wss.close();
  }
}
