import { request } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import type {
  APIGatewayProxyWebsocketEventV2WithHeaders,
  Gateway,
  GatewayOptions,
  GatewayRoute,
  LambdaResult,
} from '../../tools/local/gateway';
import { startGateway } from '../../tools/local/gateway';

/**
 * The local WebSocket gateway (tools/local/gateway/) driven by real `ws` clients and the real management API SDK,
 * with stub integrations: a harness per test (gateway.test.ts, gatewayManagement.test.ts).
 */
export type Handler = (
  event: APIGatewayProxyWebsocketEventV2WithHeaders,
) => Promise<LambdaResult | undefined>;

export interface Call {
  routeKey: string;
  event: APIGatewayProxyWebsocketEventV2WithHeaders;
}

export interface Harness {
  gw: Gateway;
  calls: Call[];
  handlers: Map<string, Handler>;
  sdk: ApiGatewayManagementApiClient;
  /** Opens a client and returns it with the connection id its $connect saw. */
  connect(path?: string, protocols?: string[]): Promise<{ ws: WebSocket; id: string }>;
  callsOf(routeKey: string): APIGatewayProxyWebsocketEventV2WithHeaders[];
}

export const ALL_ROUTES: GatewayRoute[] = [
  { routeKey: '$connect', twoWay: false },
  { routeKey: '$disconnect', twoWay: false },
  { routeKey: '$default', twoWay: true },
  { routeKey: 'sendmessage', twoWay: true },
  { routeKey: 'oneway', twoWay: false },
];

/** AWS ids: 16 characters of URL-safe base64 ending in '=' (e.g. `JC1dgf9yoAMCK-g=`). */
export const ID_FORMAT = /^[A-Za-z0-9_-]{15}=$/;

const harnesses: Harness[] = [];
const clients: WebSocket[] = [];

// Registered by importing this file: every test's gateways and clients are closed after it.
afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await Promise.all(harnesses.splice(0).map((h) => h.gw.close()));
});

export async function harness(overrides: Partial<GatewayOptions> = {}): Promise<Harness> {
  const calls: Call[] = [];
  const handlers = new Map<string, Handler>();
  const gw = await startGateway({
    port: 0,
    apiId: 'localapi01',
    stage: 'prod',
    routeSelectionExpression: '$request.body.action',
    routes: ALL_ROUTES,
    invoke: async (routeKey, event) => {
      calls.push({ routeKey, event });
      const handler = handlers.get(routeKey);
      return handler ? handler(event) : { statusCode: 200 };
    },
    ...overrides,
  });
  const sdk = new ApiGatewayManagementApiClient({
    endpoint: gw.callbackUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    // One attempt: the tests look at what the gateway answered, not at the SDK's retries.
    maxAttempts: 1,
  });
  const callsOf = (routeKey: string) => calls.filter((c) => c.routeKey === routeKey).map((c) => c.event);
  const h: Harness = {
    gw,
    calls,
    handlers,
    sdk,
    callsOf,
    connect: async (path = `/prod`, protocols) => {
      const before = callsOf('$connect').length;
      const ws = await open(`${gw.url.replace(/\/prod$/, '')}${path}`, protocols);
      const event = callsOf('$connect')[before];
      return { ws, id: event?.requestContext.connectionId ?? '' };
    },
  };
  harnesses.push(h);
  return h;
}

export function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  clients.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
}

/** Resolves with the HTTP status of a refused handshake. */
export function refusedStatus(url: string): Promise<number> {
  const ws = new WebSocket(url);
  clients.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('handshake was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', () => {});
  });
}

export function nextMessage(ws: WebSocket): Promise<{ text: string; isBinary: boolean }> {
  return new Promise((resolve) =>
    ws.once('message', (data: Buffer, isBinary: boolean) =>
      resolve({ text: data.toString('utf8'), isBinary }),
    ),
  );
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** Waits until `check` holds; the overall timeout is generous, for a loaded machine, and only ends a failing wait. */
export async function waitFor(check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits for the harness's one $disconnect and returns its request context, for a test to match what it tells. */
export async function theDisconnect(h: Harness) {
  await waitFor(() => h.callsOf('$disconnect').length === 1);
  return h.callsOf('$disconnect')[0]?.requestContext;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function rawHttp(
  gw: Gateway,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function post(h: Harness, id: string, data: string | Uint8Array) {
  return h.sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
}

export async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected a rejection');
}
