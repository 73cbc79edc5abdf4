/**
 * The WebSocket handshake before the upgrade: the checks API Gateway makes itself, $connect with its integration
 * timeout (its answer accepts or refuses the connection, and may pick the sub-protocol), and the HTTP refusal.
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyWebsocketEventV2WithHeaders, StageInfo } from './events';
import { connectEvent, httpParts } from './events';
import { errorFields, headerValue } from './frames';
import { awsId, traceId } from './ids';
import type { ConnectionInfo } from './lifecycle';
import type { GatewayStats } from './management';
import type { GatewayLogLevel, LambdaResult } from './options';

/** What the handshake needs from the stage (stage.ts). */
export interface HandshakeHost {
  readonly info: StageInfo;
  readonly port: number;
  readonly integrationTimeoutMs: number;
  readonly stats: GatewayStats;
  /** Sockets whose $connect is still running, so close() can drop them. */
  readonly pending: Set<Duplex>;
  /** Sub-protocol each accepted upgrade answers with, as returned by $connect in Sec-WebSocket-Protocol. */
  readonly protocols: WeakMap<IncomingMessage, string>;
  readonly stopped: boolean;
  invoke(
    routeKey: string,
    event: APIGatewayProxyWebsocketEventV2WithHeaders,
    startBy?: number,
  ): Promise<LambdaResult | undefined>;
  log(level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>): void;
}

/** The HTTP status that refuses this upgrade before any function runs, if any. */
export function checkHandshake(req: IncomingMessage, isSocketPath: boolean): number | undefined {
  if (!isSocketPath) return 403;
  const key = req.headers['sec-websocket-key'];
  const valid =
    req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket' && key !== undefined;
  return valid ? undefined : 400;
}

/** Runs $connect; true when it let the connection in (the socket is then still to be upgraded). */
export async function runConnect(
  host: HandshakeHost,
  req: IncomingMessage,
  socket: Duplex,
  conn: ConnectionInfo,
  now: number,
): Promise<boolean> {
  const search = (req.url ?? '').split('?')[1] ?? '';
  const extra = {
    'X-Amzn-Trace-Id': traceId(now),
    'X-Forwarded-For': conn.sourceIp,
    'X-Forwarded-Port': String(host.port),
    'X-Forwarded-Proto': 'http',
  };
  const event = connectEvent(host.info, conn, httpParts(req.rawHeaders, search, extra), now);
  // The client may reset the socket while $connect runs; without a listener that error would crash the process.
  const onError = (): void => {};
  socket.on('error', onError);
  host.pending.add(socket);
  let result: LambdaResult | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), host.integrationTimeoutMs);
  });
  // As for a message: an outcome at or after the deadline is a timeout, whichever event runs first.
  const deadline = now + host.integrationTimeoutMs;
  const timeOut = (): false => {
    host.log('warn', '$connect timed out', { connectionId: conn.id, afterMs: host.integrationTimeoutMs });
    refuse(host, socket, 504, '{"message": "Endpoint request timed out"}');
    return false;
  };
  try {
    const outcome = await Promise.race([host.invoke('$connect', event, deadline), timedOut]);
    if (outcome === 'timeout' || Date.now() >= deadline) return timeOut();
    result = outcome;
  } catch (err) {
    if (Date.now() >= deadline) return timeOut();
    host.log('warn', '$connect failed', { connectionId: conn.id, ...errorFields(err) });
    refuse(host, socket, 500, '{"message": "Internal server error"}');
    return false;
  } finally {
    clearTimeout(timer);
    host.pending.delete(socket);
    socket.off('error', onError);
  }
  if (host.stopped) {
    socket.destroy();
    return false;
  }
  const status = result?.statusCode ?? 200;
  if (status < 200 || status > 299) {
    refuse(host, socket, status, result?.body ?? '');
    return false;
  }
  const protocol = headerValue(result?.headers, 'sec-websocket-protocol');
  if (protocol !== undefined) host.protocols.set(req, protocol);
  return true;
}

/** Answers the upgrade request with an HTTP status instead of switching protocols, and closes the socket. */
export function refuse(
  host: Pick<HandshakeHost, 'stats'>,
  socket: Duplex,
  status: number,
  body: string,
): void {
  host.stats.refused++;
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
