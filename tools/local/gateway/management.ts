import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { type Latency, latencyMs } from '../awsProfile';
import { awsId } from './ids';

/** AWS rejects PostToConnection data over 128 KB with 413 PayloadTooLargeException. */
export const MAX_POST_BYTES = 128 * 1024;

export interface LiveConnection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  lastActiveAt: number;
}

export interface GatewayStats {
  posts: number;
  /** GetConnection and DeleteConnection calls answered (any status): what probes and closes cost the stage. */
  probes: number;
  deletes: number;
  gone: number;
  throttled: number;
  connects: number;
  refused: number;
  /** Connections the gateway closed for their idle timeout, and for their hard (2-hour) one: both close 1001. */
  idleClosed: number;
  hardClosed: number;
}

export const noStats = (): GatewayStats => ({
  posts: 0,
  probes: 0,
  deletes: 0,
  gone: 0,
  throttled: 0,
  connects: 0,
  refused: 0,
  idleClosed: 0,
  hardClosed: 0,
});

export interface ManagementFaults {
  apiLatencyMs: number;
  /** Under the AWS profile: each call's latency drawn from this one, in place of apiLatencyMs. */
  apiLatency?: Latency;
  faultThrottle: number;
  /** Connection ids whose every POST is answered 500 (GatewayFaults.faultFailConnections). */
  failing: ReadonlySet<string>;
}

/** What the management API needs from the gateway; kept narrow so this module stays a plain request handler. */
export interface ManagementHost {
  readonly stage: string;
  readonly stats: GatewayStats;
  readonly faults: ManagementFaults;
  lookup(id: string): LiveConnection | undefined;
  /** DeleteConnection: the id is gone at once, the socket closes, $disconnect follows. */
  remove(conn: LiveConnection): void;
  /** Takes a token from the account's request bucket; false: the call is throttled. */
  admitCall(now?: number): boolean;
  /** Runs `answer` once `ms` have passed (GatewayOptions.latencyTimer). */
  afterMs(answer: () => void, ms: number): void;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Checks the caller of a management-API request before anything else runs (the local cloud's IAM: SigV4 and
 * `execute-api:ManageConnections` on `<api>/<stage>/<METHOD>/@connections/<id>`). Resolves the refusal's message,
 * answered 403 ForbiddenException as AWS answers an unsigned, unknown or unauthorized caller; undefined to go on.
 */
export type ManagementAuth = (
  req: IncomingMessage,
  body: Buffer,
  method: string,
  connectionId: string,
) => Promise<string | undefined>;

// Shared so the hot path allocates no options object per post.
const TEXT_FRAME = { binary: false } as const;

/**
 * The `@connections` API of the stage: POST|GET|DELETE `/<stage>/@connections/<url-encoded id>`, answering with the
 * status codes and `x-amzn-ErrorType` headers the real `@aws-sdk/client-apigatewaymanagementapi` maps to its errors.
 * Returns false for any other path so the caller can answer it.
 */
export function createManagementApi(host: ManagementHost, auth?: ManagementAuth): RequestHandler {
  // The SDK sends '@' literally; other clients (awscurl, docs examples) encode it.
  const prefixes = [`/${host.stage}/@connections/`, `/${host.stage}/%40connections/`];
  const turns = slices();
  return (req, res) => {
    const url = req.url ?? '';
    const prefix = url.startsWith(prefixes[0] ?? '')
      ? prefixes[0]
      : url.startsWith(prefixes[1] ?? '')
        ? prefixes[1]
        : undefined;
    if (prefix === undefined) return false;
    const id = connectionIdOf(url, prefix.length);
    const method = req.method ?? '';
    if (id === undefined || (method !== 'POST' && method !== 'GET' && method !== 'DELETE')) {
      sendError(res, 403, 'ForbiddenException', 'Forbidden');
      return true;
    }
    readBody(req, (body) =>
      turns.take(() => {
        if (!auth) return afterLatency(host, () => answer(host, res, method, id, body));
        auth(req, body, method, id).then(
          (refusal) =>
            afterLatency(host, () =>
              refusal === undefined
                ? answer(host, res, method, id, body)
                : sendError(res, 403, 'ForbiddenException', refusal),
            ),
          () => sendError(res, 500, 'InternalServerErrorException', 'Internal server error'),
        );
      }),
    );
    return true;
  };
}

/**
 * Management-API work in slices: at most SLICE_MS of it per event-loop turn, run after the turn's other I/O (client
 * frames, the sandboxes' calls). On AWS the @connections API is its own fleet; here it shares the gateway's thread,
 * and a fan-out's thousands of posts would otherwise hold up every frame behind them.
 */
const SLICE_MS = 4;
export function slices() {
  let queue: (() => void)[] = [];
  let next = 0;
  let scheduled = false;
  const drain = () => {
    const until = performance.now() + SLICE_MS;
    while (next < queue.length && performance.now() < until) (queue[next++] as () => void)();
    if (next < queue.length) setImmediate(drain);
    else {
      queue = [];
      next = 0;
      scheduled = false;
    }
  };
  return {
    take(work: () => void): void {
      queue.push(work);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
  };
}

function answer(host: ManagementHost, res: ServerResponse, method: string, id: string, body: Buffer): void {
  // The account's requests per second cover `@connections` calls too (limits.ts accountBucket).
  if (!host.admitCall()) {
    host.stats.throttled++;
    sendError(res, 429, 'LimitExceededException', 'Rate exceeded');
    return;
  }
  if (method === 'POST') post(host, res, id, body);
  else if (method === 'GET') get(host, res, id);
  else remove(host, res, id);
}

function connectionIdOf(url: string, start: number): string | undefined {
  const query = url.indexOf('?', start);
  const raw = url.slice(start, query === -1 ? undefined : query);
  // A literal '/' would be a deeper path, which the API does not have; an encoded one (%2F) is part of the id.
  if (raw === '' || raw.includes('/')) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
  let first: Buffer | undefined;
  let rest: Buffer[] | undefined;
  req.on('data', (chunk: Buffer) => {
    if (first === undefined) {
      first = chunk;
    } else {
      rest ??= [first];
      rest.push(chunk);
    }
  });
  req.on('end', () => done(rest ? Buffer.concat(rest) : (first ?? Buffer.alloc(0))));
  // An aborted request just ends here; nothing is owed to a client that went away.
  req.on('error', () => {});
}

function afterLatency(host: ManagementHost, answer: () => void): void {
  const { apiLatency, apiLatencyMs } = host.faults;
  const ms = apiLatency ? latencyMs(apiLatency) : apiLatencyMs;
  if (ms > 0) host.afterMs(answer, ms);
  else answer();
}

function post(host: ManagementHost, res: ServerResponse, id: string, body: Buffer): void {
  if (host.faults.failing.has(id)) {
    sendError(res, 500, 'InternalServerErrorException', 'Internal server error');
    return;
  }
  const share = host.faults.faultThrottle;
  if (share > 0 && Math.random() < share) {
    host.stats.throttled++;
    sendError(res, 429, 'LimitExceededException', 'Rate exceeded');
    return;
  }
  if (body.length > MAX_POST_BYTES) {
    sendError(res, 413, 'PayloadTooLargeException', `Message too long; limit is ${MAX_POST_BYTES} bytes`);
    return;
  }
  const conn = host.lookup(id);
  // A socket already closing cannot take the frame; AWS answers Gone for it as well.
  if (conn === undefined || conn.socket.readyState !== 1) {
    gone(host, res);
    return;
  }
  conn.socket.send(body, TEXT_FRAME);
  // A push is activity too: on AWS a connection that only receives is not closed as idle.
  conn.lastActiveAt = Date.now();
  host.stats.posts++;
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': '0',
    'x-amzn-RequestId': awsId(),
  });
  res.end();
}

function get(host: ManagementHost, res: ServerResponse, id: string): void {
  host.stats.probes++;
  const conn = host.lookup(id);
  if (conn === undefined) {
    gone(host, res);
    return;
  }
  sendJson(res, 200, {
    connectedAt: new Date(conn.connectedAt).toISOString(),
    identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
    lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
  });
}

function remove(host: ManagementHost, res: ServerResponse, id: string): void {
  host.stats.deletes++;
  const conn = host.lookup(id);
  if (conn === undefined) {
    gone(host, res);
    return;
  }
  host.remove(conn);
  res.writeHead(204, { 'x-amzn-RequestId': awsId() });
  res.end();
}

/** AWS answers Gone with an empty body: the SDK reads the error name from `x-amzn-ErrorType` alone. */
function gone(host: ManagementHost, res: ServerResponse): void {
  host.stats.gone++;
  res.writeHead(410, {
    'Content-Length': '0',
    'x-amzn-ErrorType': 'GoneException',
    'x-amzn-RequestId': awsId(),
  });
  res.end();
}

export function sendError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { message }, errorType);
}

function sendJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'x-amzn-RequestId': awsId(),
  };
  if (errorType !== undefined) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}
