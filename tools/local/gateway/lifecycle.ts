/**
 * A connection's life after the upgrade: its listeners, the frame-size guard, the closes the gateway makes itself
 * (DeleteConnection, a frame over the limit, idle and 2-hour timeouts) and the best-effort $disconnect that follows.
 */
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { APIGatewayProxyWebsocketEventV2WithHeaders, StageInfo } from './events';
import { disconnectEvent } from './events';
import { type CloseCause, describeClose, errorFields, GOING_AWAY, TOO_BIG } from './frames';
import { FrameSizeGuard } from './limits';
import type { GatewayStats, LiveConnection } from './management';
import type { GatewayLogLevel, GatewayRoute, LambdaResult } from './options';

export interface Connection extends LiveConnection {
  /** Set when the gateway itself closes the socket, so $disconnect reports the gateway's reason, not the echo. */
  closeCause?: CloseCause;
}

export type ConnectionInfo = Omit<Connection, 'socket' | 'lastActiveAt'>;

/** What a connection's life needs from the stage (stage.ts). */
export interface LifecycleHost {
  readonly info: StageInfo;
  readonly routes: ReadonlyMap<string, GatewayRoute>;
  /** Live connections by id: an id leaves it the moment the gateway closes it, so posts answer 410 at once. */
  readonly conns: Map<string, Connection>;
  /** Every upgraded socket not yet closed, including ones already dropped from `conns`, so close() can end them. */
  readonly sockets: Set<WebSocket>;
  readonly stats: GatewayStats;
  readonly faults: { readonly faultSkipDisconnect: number; readonly disconnectDelayMs: number };
  readonly maxFrameBytes: number;
  readonly idleMs: number;
  readonly hardMs: number;
  /** Set synchronously by close(): from then on no function is invoked. */
  readonly stopped: boolean;
  invoke(
    routeKey: string,
    event: APIGatewayProxyWebsocketEventV2WithHeaders,
    startBy?: number,
  ): Promise<LambdaResult | undefined>;
  log(level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>): void;
  /** A client's message, to its route (routing.ts). */
  onMessage(conn: Connection, data: RawData, isBinary: boolean): void;
}

export function register(host: LifecycleHost, ws: WebSocket, raw: Duplex, info: ConnectionInfo): void {
  if (host.stopped) {
    ws.terminate();
    return;
  }
  const conn: Connection = { ...info, socket: ws, lastActiveAt: info.connectedAt };
  host.conns.set(conn.id, conn);
  host.sockets.add(ws);
  host.stats.connects++;
  // ws bounds whole messages only; AWS also closes on any single frame over 32 KB.
  const guard = new FrameSizeGuard(host.maxFrameBytes);
  const onData = (chunk: Buffer): void => {
    if (guard.feed(chunk)) return;
    raw.off('data', onData);
    host.log('info', 'frame over the limit', { connectionId: conn.id, maxFrameBytes: host.maxFrameBytes });
    closeByGateway(host, conn, TOO_BIG);
  };
  // Before ws's own listener, so the frame is refused before ws hands its message on.
  raw.prependListener('data', onData);
  ws.on('message', (data: RawData, isBinary: boolean) => host.onMessage(conn, data, isBinary));
  ws.on('error', (err: Error & { code?: string }) => onSocketError(host, conn, err));
  ws.on('close', (code: number, reason: Buffer) => onClose(host, conn, code, reason));
}

function onSocketError(host: LifecycleHost, conn: Connection, err: Error & { code?: string }): void {
  // ws closes the socket itself after a protocol error; record why so $disconnect says so.
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') conn.closeCause ??= TOO_BIG;
  host.log('info', 'socket error', { connectionId: conn.id, error: err.message, code: err.code });
}

function onClose(host: LifecycleHost, conn: Connection, code: number, reason: Buffer): void {
  if (host.conns.get(conn.id) === conn) host.conns.delete(conn.id);
  host.sockets.delete(conn.socket);
  if (host.stopped) return;
  runDisconnect(
    host,
    conn,
    conn.closeCause ?? { code, reason: describeClose(code, reason.toString('utf8')) },
  );
}

export function runDisconnect(
  host: LifecycleHost,
  conn: ConnectionInfo & { lastActiveAt: number },
  cause: CloseCause,
): void {
  if (!host.routes.has('$disconnect')) return;
  const share = host.faults.faultSkipDisconnect;
  if (share > 0 && Math.random() < share) return;
  const event = disconnectEvent(host.info, conn, cause.code, cause.reason, Date.now());
  // Best effort, as on AWS: a failed $disconnect is logged, never retried.
  const run = () =>
    host.invoke('$disconnect', event).catch((err: unknown) => {
      host.log('warn', '$disconnect failed', { connectionId: conn.id, ...errorFields(err) });
    });
  const delay = host.faults.disconnectDelayMs;
  if (delay > 0) setTimeout(run, delay).unref();
  else void run();
}

/** The id is gone at once (posts answer 410 from now on); $disconnect follows when the socket has closed. */
export function closeByGateway(
  host: Pick<LifecycleHost, 'conns'>,
  conn: Connection,
  cause: CloseCause,
): void {
  if (host.conns.get(conn.id) === conn) host.conns.delete(conn.id);
  conn.closeCause ??= cause;
  conn.socket.close(cause.code, cause.reason);
}

/** Closes every connection idle for idleMs or open for hardMs (one sweep, not two timers per connection). */
export function sweep(host: LifecycleHost): void {
  const now = Date.now();
  const idleBefore = now - host.idleMs;
  const hardBefore = now - host.hardMs;
  for (const conn of host.conns.values()) {
    const hard = conn.connectedAt <= hardBefore;
    if (!hard && conn.lastActiveAt > idleBefore) continue;
    // Counted apart, since the client sees the same close for both: a test tells a ping's effect by the cause.
    if (hard) host.stats.hardClosed++;
    else host.stats.idleClosed++;
    closeByGateway(host, conn, GOING_AWAY);
  }
}
