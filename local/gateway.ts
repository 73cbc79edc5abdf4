/**
 * A local API Gateway WebSocket API stage on `ws`: $connect before the upgrade, route selection with $default
 * fallback, two-way route replies, $disconnect on close, and the `@connections` management API on the same port
 * with the status codes and error types the real `@aws-sdk/client-apigatewaymanagementapi` understands.
 * No AWS tool emulates this, and the handlers and the fan-out must run against the real contract.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { APIGatewayProxyWebsocketEventV2WithHeaders, StageInfo } from './gateway/events';
import { connectEvent, disconnectEvent, httpParts, messageEvent } from './gateway/events';
import {
  ABNORMAL,
  BINARY,
  type CloseCause,
  checkShare,
  DELETED,
  describeClose,
  errorFields,
  errorFrame,
  GOING_AWAY,
  headerValue,
  rawText,
  TOO_BIG,
} from './gateway/frames';
import { awsId, traceId } from './gateway/ids';
import { FrameSizeGuard, routeBuckets, type StageThrottling, type TokenBucket } from './gateway/limits';
import type {
  GatewayStats,
  LiveConnection,
  ManagementAuth,
  ManagementHost,
  RequestHandler,
} from './gateway/management';
import { createManagementApi, noStats, sendError } from './gateway/management';
import { sendWithinLimit } from './gateway/messageSize';
import type { RouteSelector } from './gateway/routeSelection';
import { compileRouteSelection } from './gateway/routeSelection';
import { gatewayServer } from './gateway/server';

export type {
  APIGatewayProxyWebsocketEventV2WithHeaders,
  WebsocketIdentity,
  WebsocketRequestContext,
} from './gateway/events';
export type { StageThrottling, ThrottleSettings } from './gateway/limits';
export type { GatewayStats } from './gateway/management';

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
  /** Share 0..1 of management-API POSTs answered 429 LimitExceededException. */
  faultThrottle?: number;
  /** Share 0..1 of closed sockets whose $disconnect is not invoked (the best-effort event AWS can lose). */
  faultSkipDisconnect?: number;
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
   * stops waiting (its integration timeout); absent where nobody waits ($disconnect).
   */
  invoke(
    routeKey: string,
    event: APIGatewayProxyWebsocketEventV2WithHeaders,
    startBy?: number,
  ): Promise<LambdaResult | undefined>;
  /** Default 10 min, as on AWS. */
  idleTimeoutMs?: number;
  /** Default 2 h, as on AWS. */
  hardTimeoutMs?: number;
  /** Default 32 KB, as on AWS; a larger frame closes the socket with 1009. */
  maxFrameBytes?: number;
  /** Default 128 KB, as on AWS: a larger message from a client closes it with 1009; a larger reply is not sent. */
  maxMessageBytes?: number;
  /** Default 29 s, as on AWS: past it the client gets `Endpoint request timed out` while the function runs on. */
  integrationTimeoutMs?: number;
  /** Route throttling of the stage (token buckets); a refused message gets AWS's `Too Many Requests` frame. */
  throttling?: StageThrottling;
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

const DEFAULT_IDLE_MS = 10 * 60 * 1000;
const DEFAULT_HARD_MS = 2 * 60 * 60 * 1000;
const DEFAULT_MAX_FRAME = 32 * 1024;
const DEFAULT_MAX_MESSAGE = 128 * 1024;
const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;
/** How long close() lets clients answer the close handshake before cutting their sockets. */
const CLOSE_GRACE_MS = 1000;

interface Connection extends LiveConnection {
  /** Set when the gateway itself closes the socket, so $disconnect reports the gateway's reason, not the echo. */
  closeCause?: CloseCause;
}

type ConnectionInfo = Omit<Connection, 'socket' | 'lastActiveAt'>;

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const stage = new Stage(opts);
  await stage.listen(opts.port, opts.host ?? '127.0.0.1');
  return stage.facade();
}

class Stage implements ManagementHost {
  readonly stage: string;
  readonly stats: GatewayStats = noStats();
  readonly faults = { apiLatencyMs: 0, faultThrottle: 0, faultSkipDisconnect: 0 };
  private readonly conns = new Map<string, Connection>();
  /** Sockets whose $connect is still running, so close() can drop them. */
  private readonly pending = new Set<Duplex>();
  /** Sub-protocol each accepted upgrade answers with, as returned by $connect in Sec-WebSocket-Protocol. */
  private readonly protocols = new WeakMap<IncomingMessage, string>();
  private readonly routes: Map<string, GatewayRoute>;
  private readonly selectRoute: RouteSelector;
  private readonly info: StageInfo;
  private readonly server = gatewayServer((req, res) => this.onRequest(req, res));
  private readonly wss: WebSocketServer;
  private readonly management: RequestHandler;
  private readonly idleMs: number;
  private readonly hardMs: number;
  private readonly maxFrameBytes: number;
  private readonly integrationTimeoutMs: number;
  private readonly buckets: Map<string, TokenBucket>;
  /** Every upgraded socket not yet closed, including ones already dropped from `conns`, so close() can end them. */
  private readonly sockets = new Set<WebSocket>();
  private sweeper: NodeJS.Timeout | undefined;
  /** Set synchronously by close(): from then on no function is invoked. */
  private stopped = false;
  private closed: Promise<void> | undefined;
  private port = 0;
  private host = '127.0.0.1';

  constructor(private readonly opts: GatewayOptions) {
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
    this.sweeper = setInterval(() => this.sweep(), every);
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
    if (live !== undefined) this.closeByGateway(live, DELETED);
  }

  private url(): string {
    return `ws://${this.host}:${this.port}/${this.stage}`;
  }

  private setFaults(faults: GatewayFaults): void {
    const { apiLatencyMs, faultThrottle, faultSkipDisconnect } = faults;
    if (apiLatencyMs !== undefined && !(apiLatencyMs >= 0 && Number.isFinite(apiLatencyMs))) {
      throw new RangeError(`apiLatencyMs must be a finite number >= 0, got ${apiLatencyMs}`);
    }
    checkShare('faultThrottle', faultThrottle);
    checkShare('faultSkipDisconnect', faultSkipDisconnect);
    if (apiLatencyMs !== undefined) this.faults.apiLatencyMs = apiLatencyMs;
    if (faultThrottle !== undefined) this.faults.faultThrottle = faultThrottle;
    if (faultSkipDisconnect !== undefined) this.faults.faultSkipDisconnect = faultSkipDisconnect;
  }

  /** A synchronous throw from `invoke` counts as a failed function, like a rejection. */
  private invoke(
    routeKey: string,
    event: APIGatewayProxyWebsocketEventV2WithHeaders,
    startBy?: number,
  ): Promise<LambdaResult | undefined> {
    try {
      return this.opts.invoke(routeKey, event, startBy);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private log(level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>): void {
    this.opts.log?.(level, msg, fields);
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

  // ------------------------------------------------------------------ handshake and $connect

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refusal = this.stopped ? 503 : this.checkHandshake(req);
    if (refusal !== undefined) {
      this.refuse(socket, refusal, refusal === 403 ? '{"message":"Forbidden"}' : '');
      return;
    }
    if (!this.admit('$connect')) {
      this.refuse(socket, 429, '{"message":"Too Many Requests"}');
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
      const allowed = await this.runConnect(req, socket, conn, now);
      if (!allowed) return;
    }
    this.accept(req, socket, head, conn);
  }

  /** The HTTP status that refuses this upgrade before any function runs, if any. */
  private checkHandshake(req: IncomingMessage): number | undefined {
    if (!this.isSocketPath(req.url ?? '')) return 403;
    const key = req.headers['sec-websocket-key'];
    const valid =
      req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket' && key !== undefined;
    return valid ? undefined : 400;
  }

  private async runConnect(
    req: IncomingMessage,
    socket: Duplex,
    conn: ConnectionInfo,
    now: number,
  ): Promise<boolean> {
    const search = (req.url ?? '').split('?')[1] ?? '';
    const extra = {
      'X-Amzn-Trace-Id': traceId(now),
      'X-Forwarded-For': conn.sourceIp,
      'X-Forwarded-Port': String(this.port),
      'X-Forwarded-Proto': 'http',
    };
    const event = connectEvent(this.info, conn, httpParts(req.rawHeaders, search, extra), now);
    // The client may reset the socket while $connect runs; without a listener that error would crash the process.
    const onError = (): void => {};
    socket.on('error', onError);
    this.pending.add(socket);
    let result: LambdaResult | undefined;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.integrationTimeoutMs);
    });
    // As for a message: an outcome at or after the deadline is a timeout, whichever event runs first.
    const deadline = now + this.integrationTimeoutMs;
    const timeOut = (): false => {
      this.log('warn', '$connect timed out', { connectionId: conn.id, afterMs: this.integrationTimeoutMs });
      this.refuse(socket, 504, '{"message": "Endpoint request timed out"}');
      return false;
    };
    try {
      const outcome = await Promise.race([this.invoke('$connect', event, deadline), timedOut]);
      if (outcome === 'timeout' || Date.now() >= deadline) return timeOut();
      result = outcome;
    } catch (err) {
      if (Date.now() >= deadline) return timeOut();
      this.log('warn', '$connect failed', { connectionId: conn.id, ...errorFields(err) });
      this.refuse(socket, 500, '{"message": "Internal server error"}');
      return false;
    } finally {
      clearTimeout(timer);
      this.pending.delete(socket);
      socket.off('error', onError);
    }
    if (this.stopped) {
      socket.destroy();
      return false;
    }
    const status = result?.statusCode ?? 200;
    if (status < 200 || status > 299) {
      this.refuse(socket, status, result?.body ?? '');
      return false;
    }
    const protocol = headerValue(result?.headers, 'sec-websocket-protocol');
    if (protocol !== undefined) this.protocols.set(req, protocol);
    return true;
  }

  private refuse(socket: Duplex, status: number, body: string): void {
    this.stats.refused++;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`,
      'Connection: close',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `x-amzn-RequestId: ${awsId()}`,
    ].join('\r\n');
    socket.end(`${head}\r\n\r\n${body}`, () => socket.destroy());
  }

  private accept(req: IncomingMessage, socket: Duplex, head: Buffer, info: ConnectionInfo): void {
    if (socket.destroyed || !socket.writable) {
      // The client left while $connect ran; AWS still reports the end so the handler can undo its $connect.
      this.runDisconnect({ ...info, lastActiveAt: info.connectedAt }, ABNORMAL);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.register(ws, socket, info));
  }

  private register(ws: WebSocket, raw: Duplex, info: ConnectionInfo): void {
    if (this.stopped) {
      ws.terminate();
      return;
    }
    const conn: Connection = { ...info, socket: ws, lastActiveAt: info.connectedAt };
    this.conns.set(conn.id, conn);
    this.sockets.add(ws);
    this.stats.connects++;
    // ws bounds whole messages only; AWS also closes on any single frame over 32 KB.
    const guard = new FrameSizeGuard(this.maxFrameBytes);
    const onData = (chunk: Buffer): void => {
      if (guard.feed(chunk)) return;
      raw.off('data', onData);
      this.log('info', 'frame over the limit', { connectionId: conn.id, maxFrameBytes: this.maxFrameBytes });
      this.closeByGateway(conn, TOO_BIG);
    };
    // Before ws's own listener, so the frame is refused before ws hands its message on.
    raw.prependListener('data', onData);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(conn, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => this.onSocketError(conn, err));
    ws.on('close', (code: number, reason: Buffer) => this.onClose(conn, code, reason));
  }

  private newId(): string {
    let id = awsId();
    // 88 random bits make a clash all but impossible; the check keeps ids unique among live connections anyway.
    while (this.conns.has(id)) id = awsId();
    return id;
  }

  // ------------------------------------------------------------------ messages

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    // A socket the gateway is closing (a frame over the limit) routes nothing more.
    if (this.stopped || conn.closeCause !== undefined) return;
    if (isBinary) {
      this.closeByGateway(conn, BINARY);
      return;
    }
    const now = Date.now();
    conn.lastActiveAt = now;
    const body = rawText(data);
    const route = this.routeFor(body);
    if (route === undefined) {
      this.sendFrame(conn, errorFrame('Forbidden', conn.id, awsId()));
      return;
    }
    if (!this.admit(route.routeKey, now)) {
      this.sendFrame(conn, errorFrame('Too Many Requests', conn.id, awsId()));
      return;
    }
    if (route.mockResponse !== undefined) {
      if (route.twoWay) this.sendFrame(conn, route.mockResponse);
      return;
    }
    const event = messageEvent(this.info, conn, route.routeKey, body, now);
    const requestId = event.requestContext.requestId;
    // The integration timeout counts from the frame's arrival. Past it the client hears so, once, and the function
    // runs on with its late answer dropped: an outcome settled at or after the deadline is never the answer, also
    // when its event runs before the timer's.
    const deadline = now + this.integrationTimeoutMs;
    let answered = false;
    const timeOut = (): void => {
      answered = true;
      clearTimeout(timer);
      this.log('warn', 'route integration timed out', {
        routeKey: route.routeKey,
        connectionId: conn.id,
        afterMs: this.integrationTimeoutMs,
      });
      this.sendFrame(conn, errorFrame('Endpoint request timed out', conn.id, requestId));
    };
    const timer = setTimeout(timeOut, this.integrationTimeoutMs);
    this.invoke(route.routeKey, event, deadline).then(
      (result) => {
        if (answered) return;
        if (Date.now() >= deadline) return timeOut();
        clearTimeout(timer);
        if (route.twoWay && typeof result?.body === 'string') this.sendFrame(conn, result.body);
      },
      (err: unknown) => {
        if (answered) return;
        if (Date.now() >= deadline) return timeOut();
        clearTimeout(timer);
        this.log('warn', 'route integration failed', {
          routeKey: route.routeKey,
          connectionId: conn.id,
          ...errorFields(err),
        });
        this.sendFrame(conn, errorFrame('Internal server error', conn.id, requestId));
      },
    );
  }

  /** Takes a token from the route's bucket; true when the route has no limits. */
  private admit(routeKey: string, now = Date.now()): boolean {
    return this.buckets.get(routeKey)?.take(now) ?? true;
  }

  private routeFor(body: string): GatewayRoute | undefined {
    const key = this.selectRoute(body);
    // $connect/$disconnect/$default are never selected by a message's own field.
    const named = key !== undefined && !key.startsWith('$') ? this.routes.get(key) : undefined;
    return named ?? this.routes.get('$default');
  }

  private sendFrame(conn: Connection, text: string): void {
    if (!this.stopped && conn.socket.readyState === 1) sendWithinLimit(conn, text, this.opts);
  }

  // ------------------------------------------------------------------ closing and $disconnect

  private onSocketError(conn: Connection, err: Error & { code?: string }): void {
    // ws closes the socket itself after a protocol error; record why so $disconnect says so.
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') conn.closeCause ??= TOO_BIG;
    this.log('info', 'socket error', { connectionId: conn.id, error: err.message, code: err.code });
  }

  private onClose(conn: Connection, code: number, reason: Buffer): void {
    if (this.conns.get(conn.id) === conn) this.conns.delete(conn.id);
    this.sockets.delete(conn.socket);
    if (this.stopped) return;
    this.runDisconnect(
      conn,
      conn.closeCause ?? { code, reason: describeClose(code, reason.toString('utf8')) },
    );
  }

  private runDisconnect(conn: ConnectionInfo & { lastActiveAt: number }, cause: CloseCause): void {
    if (!this.routes.has('$disconnect')) return;
    const share = this.faults.faultSkipDisconnect;
    if (share > 0 && Math.random() < share) return;
    const event = disconnectEvent(this.info, conn, cause.code, cause.reason, Date.now());
    // Best effort, as on AWS: a failed $disconnect is logged, never retried.
    this.invoke('$disconnect', event).catch((err: unknown) => {
      this.log('warn', '$disconnect failed', { connectionId: conn.id, ...errorFields(err) });
    });
  }

  /** The id is gone at once (posts answer 410 from now on); $disconnect follows when the socket has closed. */
  private closeByGateway(conn: Connection, cause: CloseCause): void {
    if (this.conns.get(conn.id) === conn) this.conns.delete(conn.id);
    conn.closeCause ??= cause;
    conn.socket.close(cause.code, cause.reason);
  }

  private sweep(): void {
    const now = Date.now();
    const idleBefore = now - this.idleMs;
    const hardBefore = now - this.hardMs;
    for (const conn of this.conns.values()) {
      if (conn.lastActiveAt <= idleBefore || conn.connectedAt <= hardBefore)
        this.closeByGateway(conn, GOING_AWAY);
    }
  }

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
