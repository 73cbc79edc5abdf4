import { request } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import type {
  APIGatewayProxyWebsocketEventV2WithHeaders,
  Gateway,
  GatewayOptions,
  GatewayRoute,
  LambdaResult,
} from '../../local/gateway';
import { startGateway } from '../../local/gateway';
import { LambdaServiceError } from '../../local/lambda/service';

type Handler = (event: APIGatewayProxyWebsocketEventV2WithHeaders) => Promise<LambdaResult | undefined>;

interface Call {
  routeKey: string;
  event: APIGatewayProxyWebsocketEventV2WithHeaders;
}

interface Harness {
  gw: Gateway;
  calls: Call[];
  handlers: Map<string, Handler>;
  sdk: ApiGatewayManagementApiClient;
  /** Opens a client and returns it with the connection id its $connect saw. */
  connect(path?: string, protocols?: string[]): Promise<{ ws: WebSocket; id: string }>;
  callsOf(routeKey: string): APIGatewayProxyWebsocketEventV2WithHeaders[];
}

const ALL_ROUTES: GatewayRoute[] = [
  { routeKey: '$connect', twoWay: false },
  { routeKey: '$disconnect', twoWay: false },
  { routeKey: '$default', twoWay: true },
  { routeKey: 'sendmessage', twoWay: true },
  { routeKey: 'oneway', twoWay: false },
];

/** AWS ids: 16 characters of URL-safe base64 ending in '=' (e.g. `JC1dgf9yoAMCK-g=`). */
const ID_FORMAT = /^[A-Za-z0-9_-]{15}=$/;

const harnesses: Harness[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await Promise.all(harnesses.splice(0).map((h) => h.gw.close()));
});

async function harness(overrides: Partial<GatewayOptions> = {}): Promise<Harness> {
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

function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  clients.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
}

/** Resolves with the HTTP status of a refused handshake. */
function refusedStatus(url: string): Promise<number> {
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

function nextMessage(ws: WebSocket): Promise<{ text: string; isBinary: boolean }> {
  return new Promise((resolve) =>
    ws.once('message', (data: Buffer, isBinary: boolean) =>
      resolve({ text: data.toString('utf8'), isBinary }),
    ),
  );
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function rawHttp(
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

function post(h: Harness, id: string, data: string | Uint8Array) {
  return h.sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
}

async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected a rejection');
}

describe('startGateway options', () => {
  it('throws at start for a route selection expression it cannot evaluate, naming it', async () => {
    await expect(harness({ routeSelectionExpression: 'request.body.action' })).rejects.toThrow(
      "'request.body.action'",
    );
    await expect(harness({ routeSelectionExpression: '$request.header.x' })).rejects.toThrow(
      '$request.header.x',
    );
  });

  it('gives ws and callback urls on the same port with the stage', async () => {
    const h = await harness();
    expect(h.gw.url).toBe(`ws://127.0.0.1:${h.gw.port}/prod`);
    expect(h.gw.callbackUrl).toBe(`http://127.0.0.1:${h.gw.port}/prod`);
  });

  it('rejects fault shares outside 0..1', async () => {
    const h = await harness();
    expect(() => h.gw.setFaults({ faultThrottle: 2 })).toThrow(RangeError);
    expect(() => h.gw.setFaults({ apiLatencyMs: -1 })).toThrow(RangeError);
  });
});

describe('$connect', () => {
  it('refuses the handshake with the function status and passes the query string', async () => {
    const h = await harness();
    h.handlers.set('$connect', async () => ({ statusCode: 401 }));
    const status = await refusedStatus(`${h.gw.url}?username=alice&tag=a&tag=b`);
    expect(status).toBe(401);
    const [event] = h.callsOf('$connect');
    expect(event?.queryStringParameters).toEqual({ username: 'alice', tag: 'b' });
    expect(event?.multiValueQueryStringParameters).toEqual({ username: ['alice'], tag: ['a', 'b'] });
    expect(h.gw.connectionCount()).toBe(0);
    expect(h.gw.stats().refused).toBe(1);
    // No connection existed, so there is nothing to disconnect.
    await sleep(50);
    expect(h.callsOf('$disconnect')).toHaveLength(0);
  });

  it('answers 500 when the $connect function fails', async () => {
    const h = await harness();
    h.handlers.set('$connect', async () => {
      throw new Error('boom');
    });
    expect(await refusedStatus(h.gw.url)).toBe(500);
    expect(h.gw.connectionCount()).toBe(0);
  });

  it('builds the CONNECT event like API Gateway', async () => {
    const h = await harness();
    const { id } = await h.connect('/prod');
    const event = h.callsOf('$connect')[0];
    expect(id).toMatch(ID_FORMAT);
    expect(event?.queryStringParameters).toBeUndefined();
    expect(event?.isBase64Encoded).toBe(false);
    expect(event?.headers?.['Sec-WebSocket-Key']).toEqual(expect.any(String));
    expect(event?.headers?.Host).toBe(`127.0.0.1:${h.gw.port}`);
    expect(event?.headers?.['X-Forwarded-For']).toBe('127.0.0.1');
    expect(event?.multiValueHeaders?.['Sec-WebSocket-Version']).toEqual(['13']);
    expect(event?.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'prod',
      apiId: 'localapi01',
      domainName: 'localapi01.execute-api.local',
      connectionId: id,
      identity: { sourceIp: '127.0.0.1' },
    });
    expect(event?.requestContext.requestId).toMatch(ID_FORMAT);
    expect(event?.requestContext.connectedAt).toEqual(expect.any(Number));
    expect(event?.requestContext.requestTime).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    expect(h.gw.connectionCount()).toBe(1);
    expect(h.gw.stats().connects).toBe(1);
  });

  it('accepts clients on / and on /<stage>, and forbids other paths without invoking anything', async () => {
    const h = await harness();
    await h.connect('/');
    await h.connect('/prod?username=bob');
    expect(h.gw.connectionCount()).toBe(2);
    expect(await refusedStatus(`${h.gw.url}/other`)).toBe(403);
    expect(await refusedStatus(h.gw.url.replace('/prod', '/dev'))).toBe(403);
    expect(h.callsOf('$connect')).toHaveLength(2);
  });

  it('accepts without a $connect route and gives unique ids', async () => {
    const h = await harness({ routes: [{ routeKey: '$default', twoWay: true }] });
    h.handlers.set('$default', async (e) => ({ statusCode: 200, body: e.requestContext.connectionId }));
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const ws = await open(h.gw.url);
      const reply = nextMessage(ws);
      ws.send('who am i');
      ids.add((await reply).text);
    }
    expect(ids.size).toBe(5);
    for (const id of ids) expect(id).toMatch(ID_FORMAT);
  });

  it('agrees a sub-protocol only when $connect returns it', async () => {
    const h = await harness();
    h.handlers.set('$connect', async (e) =>
      e.queryStringParameters?.accept
        ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'chat' } }
        : {},
    );
    const { ws } = await h.connect('/prod?accept=1', ['chat']);
    expect(ws.protocol).toBe('chat');
    // Without the header the client's requested protocol is not agreed, so a strict client fails, as with AWS.
    await expect(h.connect('/prod', ['chat'])).rejects.toThrow();
  });
});

describe('messages', () => {
  it('selects the named route, else $default (unknown action, no action, non-JSON)', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    const frames = [
      '{"action":"sendmessage","message":"hi"}',
      '{"action":"nope"}',
      '{"message":"no action"}',
      'not json',
      '{"action":"$connect"}',
    ];
    for (const frame of frames) ws.send(frame);
    ws.send('{"action":"oneway"}');
    await waitFor(() => h.calls.length >= 1 + frames.length + 1);
    const routed = h.calls.slice(1).map((c) => [c.routeKey, c.event.body]);
    expect(routed).toEqual(
      expect.arrayContaining([
        ['sendmessage', frames[0]],
        ['$default', frames[1]],
        ['$default', frames[2]],
        ['$default', frames[3]],
        ['$default', frames[4]],
        ['oneway', '{"action":"oneway"}'],
      ]),
    );
    const event = h.callsOf('sendmessage')[0];
    expect(event?.isBase64Encoded).toBe(false);
    expect(event?.requestContext).toMatchObject({
      routeKey: 'sendmessage',
      eventType: 'MESSAGE',
      connectionId: id,
      stage: 'prod',
      apiId: 'localapi01',
    });
    expect(event?.requestContext.messageId).toMatch(ID_FORMAT);
  });

  it('supports a nested $request.body field', async () => {
    const h = await harness({ routeSelectionExpression: '$request.body.meta.route' });
    const { ws } = await h.connect();
    ws.send('{"meta":{"route":"oneway"}}');
    await waitFor(() => h.callsOf('oneway').length === 1);
  });

  it('sends a two-way route reply to the caller only, and nothing for a one-way route', async () => {
    const h = await harness();
    h.handlers.set('sendmessage', async () => ({ statusCode: 200, body: '{"type":"ack"}' }));
    h.handlers.set('oneway', async () => ({ statusCode: 200, body: 'must not be sent' }));
    const a = await h.connect();
    const b = await h.connect();
    const seenByB: string[] = [];
    b.ws.on('message', (d: Buffer) => seenByB.push(d.toString()));
    const seenByA: string[] = [];
    a.ws.on('message', (d: Buffer) => seenByA.push(d.toString()));
    a.ws.send('{"action":"oneway"}');
    a.ws.send('{"action":"sendmessage"}');
    await waitFor(() => seenByA.length === 1);
    await sleep(50);
    expect(seenByA).toEqual(['{"type":"ack"}']);
    expect(seenByB).toEqual([]);
  });

  it('answers a failed function with the AWS error frame and keeps serving others', async () => {
    const logs: string[] = [];
    const h = await harness({ log: (level, msg) => logs.push(`${level} ${msg}`) });
    h.handlers.set('sendmessage', async (e) => {
      if (e.body?.includes('crash')) throw new Error('secret stack detail');
      return { statusCode: 200, body: 'ok' };
    });
    const a = await h.connect();
    const b = await h.connect();
    const errorFrame = nextMessage(a.ws);
    a.ws.send('{"action":"sendmessage","crash":true}');
    const { text } = await errorFrame;
    const requestId = h.callsOf('sendmessage')[0]?.requestContext.requestId;
    expect(text).toBe(
      `{"message": "Internal server error", "connectionId":"${a.id}", "requestId":"${requestId}"}`,
    );
    expect(text).not.toContain('secret');
    const reply = nextMessage(b.ws);
    b.ws.send('{"action":"sendmessage"}');
    expect((await reply).text).toBe('ok');
    const again = nextMessage(a.ws);
    a.ws.send('{"action":"sendmessage"}');
    expect((await again).text).toBe('ok');
    expect(logs).toContain('warn route integration failed');
  });

  it('answers a throttled Lambda (TooManyRequestsException) with Internal server error, as a proxy integration does', async () => {
    const h = await harness();
    h.handlers.set('sendmessage', async () => {
      throw new LambdaServiceError('TooManyRequestsException', 'Rate Exceeded.', 429);
    });
    const { ws, id } = await h.connect();
    const frame = nextMessage(ws);
    ws.send('{"action":"sendmessage"}');
    const text = (await frame).text;
    const requestId = h.callsOf('sendmessage')[0]?.requestContext.requestId;
    expect(text).toBe(
      `{"message": "Internal server error", "connectionId":"${id}", "requestId":"${requestId}"}`,
    );
  });

  it('answers Forbidden when nothing matches and there is no $default route', async () => {
    const h = await harness({ routes: [{ routeKey: 'sendmessage', twoWay: true }] });
    const ws = await open(h.gw.url);
    const frame = nextMessage(ws);
    ws.send('{"action":"unknown"}');
    const parsed = JSON.parse((await frame).text) as Record<string, unknown>;
    expect(parsed).toEqual({
      message: 'Forbidden',
      connectionId: expect.any(String),
      requestId: expect.any(String),
    });
    expect(h.calls).toHaveLength(0);
  });

  it('closes the socket with 1009 for a frame over the limit and reports it to $disconnect', async () => {
    const h = await harness({ maxFrameBytes: 1024 });
    const { ws, id } = await h.connect();
    const done = closed(ws);
    ws.send('x'.repeat(1025));
    expect((await done).code).toBe(1009);
    await waitFor(() => h.callsOf('$disconnect').length === 1);
    expect(h.callsOf('$disconnect')[0]?.requestContext).toMatchObject({
      connectionId: id,
      disconnectStatusCode: 1009,
    });
    expect(h.callsOf('$default')).toHaveLength(0);
  });

  it('accepts a frame of exactly the limit', async () => {
    const h = await harness({ maxFrameBytes: 1024 });
    const { ws } = await h.connect();
    ws.send('y'.repeat(1024));
    await waitFor(() => h.callsOf('$default').length === 1);
  });
});

describe('AWS limits on client frames', () => {
  it('closes with 1009 a single 40 KB frame (the 32 KB frame limit), without invoking anything', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    const done = closed(ws);
    ws.send(JSON.stringify({ action: 'sendmessage', message: 'x'.repeat(40 * 1024) }));
    expect(await done).toEqual({ code: 1009, reason: 'Message too big' });
    await waitFor(() => h.callsOf('$disconnect').length === 1);
    expect(h.callsOf('$disconnect')[0]?.requestContext).toMatchObject({
      connectionId: id,
      disconnectStatusCode: 1009,
    });
    expect(h.callsOf('sendmessage')).toHaveLength(0);
  });

  it('routes a 100 KB message sent in frames of 32 KB or less, as AWS does', async () => {
    const h = await harness();
    const { ws } = await h.connect();
    const text = JSON.stringify({ action: 'sendmessage', message: 'y'.repeat(100 * 1024) });
    const frames = Math.ceil(Buffer.byteLength(text) / (32 * 1024));
    for (let i = 0; i < frames; i++) {
      const part = text.slice(i * 32 * 1024, (i + 1) * 32 * 1024);
      ws.send(part, { fin: i === frames - 1 });
    }
    await waitFor(() => h.callsOf('sendmessage').length === 1);
    expect(h.callsOf('sendmessage')[0]?.body).toBe(text);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 1009 a message over 128 KB even when every frame is under 32 KB', async () => {
    const h = await harness();
    const { ws } = await h.connect();
    const done = closed(ws);
    const frame = 'z'.repeat(30 * 1024);
    for (let i = 0; i < 5; i++) ws.send(frame, { fin: i === 4 });
    expect((await done).code).toBe(1009);
    expect(h.callsOf('$default')).toHaveLength(0);
  });

  it('closes with 1003 on a binary frame and routes nothing', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    const done = closed(ws);
    ws.send(Buffer.from('{"action":"sendmessage"}'), { binary: true });
    expect((await done).code).toBe(1003);
    await waitFor(() => h.callsOf('$disconnect').length === 1);
    expect(h.callsOf('$disconnect')[0]?.requestContext).toMatchObject({
      connectionId: id,
      disconnectStatusCode: 1003,
    });
    expect(h.callsOf('sendmessage')).toHaveLength(0);
  });

  it('gives connection, request and message ids in the URL-safe alphabet, never + or /', async () => {
    const h = await harness();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { ws, id } = await h.connect();
      ids.push(id);
      ws.send('{"action":"oneway"}');
    }
    await waitFor(() => h.callsOf('oneway').length === 40);
    for (const event of h.calls.map((c) => c.event)) {
      ids.push(event.requestContext.requestId, event.requestContext.messageId ?? 'AAAAAAAAAAAAAAA=');
    }
    // 40 connections and 80 events: about 3,000 random base64 characters, which would hold ~90 '+' or '/'.
    for (const id of ids) expect(id).toMatch(ID_FORMAT);
    expect(new Set(ids.slice(0, 40)).size).toBe(40);
  });
});

describe('integration timeout', () => {
  it('answers AWS\'s "Endpoint request timed out" frame past the timeout and drops the late reply', async () => {
    const h = await harness({ integrationTimeoutMs: 150 });
    h.handlers.set('sendmessage', async () => {
      await sleep(400);
      return { statusCode: 200, body: 'too late' };
    });
    const { ws, id } = await h.connect();
    const seen: string[] = [];
    ws.on('message', (d: Buffer) => seen.push(d.toString()));
    ws.send('{"action":"sendmessage"}');
    await waitFor(() => seen.length === 1);
    const requestId = h.callsOf('sendmessage')[0]?.requestContext.requestId;
    expect(seen[0]).toBe(
      `{"message": "Endpoint request timed out", "connectionId":"${id}", "requestId":"${requestId}"}`,
    );
    await sleep(400);
    expect(seen).toHaveLength(1);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('answers the reply when the function ends within the timeout', async () => {
    const h = await harness({ integrationTimeoutMs: 300 });
    h.handlers.set('sendmessage', async () => {
      await sleep(50);
      return { statusCode: 200, body: 'in time' };
    });
    const { ws } = await h.connect();
    const reply = nextMessage(ws);
    ws.send('{"action":"sendmessage"}');
    expect((await reply).text).toBe('in time');
  });

  it('refuses the handshake with 504 when $connect passes the timeout', async () => {
    const h = await harness({ integrationTimeoutMs: 100 });
    h.handlers.set('$connect', async () => {
      await sleep(300);
      return { statusCode: 200 };
    });
    expect(await refusedStatus(h.gw.url)).toBe(504);
  });
});

describe('route throttling (token bucket from the stage settings)', () => {
  it('answers AWS\'s "Too Many Requests" frame beyond the burst, without invoking the route', async () => {
    const h = await harness({ throttling: { defaults: { rateLimit: 1, burstLimit: 2 } } });
    h.handlers.set('sendmessage', async () => ({ statusCode: 200, body: 'ok' }));
    const { ws, id } = await h.connect();
    const seen: string[] = [];
    ws.on('message', (d: Buffer) => seen.push(d.toString()));
    for (let i = 0; i < 3; i++) ws.send('{"action":"sendmessage"}');
    await waitFor(() => seen.length === 3);
    expect(seen.filter((f) => f === 'ok')).toHaveLength(2);
    const refused = JSON.parse(seen.find((f) => f !== 'ok') ?? '{}') as Record<string, unknown>;
    expect(refused).toEqual({
      message: 'Too Many Requests',
      connectionId: id,
      requestId: expect.any(String),
    });
    expect(refused.requestId).toMatch(ID_FORMAT);
    expect(h.callsOf('sendmessage')).toHaveLength(2);
  });

  it('refills at the rate limit', async () => {
    const h = await harness({ throttling: { defaults: { rateLimit: 20, burstLimit: 1 } } });
    h.handlers.set('sendmessage', async () => ({ statusCode: 200, body: 'ok' }));
    const { ws } = await h.connect();
    const first = nextMessage(ws);
    ws.send('{"action":"sendmessage"}');
    expect((await first).text).toBe('ok');
    // One token per 50 ms at 20/s.
    await sleep(120);
    const second = nextMessage(ws);
    ws.send('{"action":"sendmessage"}');
    expect((await second).text).toBe('ok');
  });

  it('gives each route its own bucket, with RouteSettings overriding the stage defaults', async () => {
    const h = await harness({
      throttling: { defaults: { rateLimit: 1, burstLimit: 1 }, routes: { sendmessage: { burstLimit: 3 } } },
    });
    h.handlers.set('sendmessage', async () => ({ statusCode: 200, body: 'ok' }));
    const { ws } = await h.connect();
    const seen: string[] = [];
    ws.on('message', (d: Buffer) => seen.push(d.toString()));
    for (let i = 0; i < 3; i++) ws.send('{"action":"sendmessage"}');
    ws.send('{"action":"nope"}');
    ws.send('{"action":"nope"}');
    await waitFor(() => seen.length === 4);
    expect(h.callsOf('sendmessage')).toHaveLength(3);
    expect(h.callsOf('$default')).toHaveLength(1);
    expect(seen.filter((f) => f.includes('Too Many Requests'))).toHaveLength(1);
  });

  it('refuses a throttled $connect with 429 before running it', async () => {
    const h = await harness({ throttling: { defaults: { rateLimit: 1, burstLimit: 1 } } });
    await h.connect();
    expect(await refusedStatus(h.gw.url)).toBe(429);
    expect(h.callsOf('$connect')).toHaveLength(1);
  });
});

describe('management API through the real SDK', () => {
  it('PostToConnection delivers the data as a text frame', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    const frame = nextMessage(ws);
    const out = await post(h, id, '{"type":"message","text":"héllo"}');
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(await frame).toEqual({ text: '{"type":"message","text":"héllo"}', isBinary: false });
    expect(h.gw.stats().posts).toBe(1);
  });

  it('GetConnection returns connectedAt, identity and lastActiveAt updated by messages', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    const first = await h.sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(first.ConnectedAt).toBeInstanceOf(Date);
    expect(first.Identity?.SourceIp).toBe('127.0.0.1');
    expect(first.LastActiveAt?.getTime()).toBe(first.ConnectedAt?.getTime());
    await sleep(20);
    ws.send('{"action":"oneway"}');
    await waitFor(() => h.callsOf('oneway').length === 1);
    const second = await h.sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(second.LastActiveAt?.getTime()).toBeGreaterThan(first.ConnectedAt?.getTime() ?? 0);
  });

  it('DeleteConnection closes the socket, runs $disconnect, and the id is gone', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    const done = closed(ws);
    const out = await h.sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    expect(out.$metadata.httpStatusCode).toBe(204);
    expect((await done).code).toBe(1000);
    await waitFor(() => h.callsOf('$disconnect').length === 1);
    expect(h.callsOf('$disconnect')[0]?.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId: id,
      disconnectStatusCode: 1000,
      disconnectReason: 'Connection Closed Normally',
    });
    expect((await errorOf(post(h, id, 'late'))).name).toBe('GoneException');
    expect(h.gw.connectionCount()).toBe(0);
  });

  it('answers an unknown id with 410 GoneException', async () => {
    const h = await harness();
    const err = await errorOf(post(h, 'AAAAAAAAAAAAAAA=', 'x'));
    expect(err.name).toBe('GoneException');
    expect(err.$metadata?.httpStatusCode).toBe(410);
    expect((await errorOf(h.sdk.send(new GetConnectionCommand({ ConnectionId: 'nope' })))).name).toBe(
      'GoneException',
    );
    expect((await errorOf(h.sdk.send(new DeleteConnectionCommand({ ConnectionId: 'nope' })))).name).toBe(
      'GoneException',
    );
    expect(h.gw.stats().gone).toBe(3);
  });

  it('answers 410 with x-amzn-ErrorType and an empty body on the raw wire, @ encoded or not', async () => {
    const h = await harness();
    const gone = await rawHttp(h.gw, 'POST', '/prod/@connections/AAAAAAAAAAAAAAA%3D', 'x');
    expect(gone.status).toBe(410);
    expect(gone.headers['x-amzn-errortype']).toBe('GoneException');
    // AWS's Gone has no body: the SDK (and any client) reads the error from the header alone.
    expect(gone.body).toBe('');
    expect(gone.headers['content-length']).toBe('0');
    expect(gone.headers['x-amzn-requestid']).toMatch(ID_FORMAT);
    const { ws, id } = await h.connect();
    const frame = nextMessage(ws);
    const ok = await rawHttp(h.gw, 'POST', `/prod/%40connections/${encodeURIComponent(id)}`, 'raw');
    expect(ok.status).toBe(200);
    expect((await frame).text).toBe('raw');
    expect((await rawHttp(h.gw, 'POST', '/dev/@connections/x', 'x')).status).toBe(403);
    expect((await rawHttp(h.gw, 'GET', '/prod')).status).toBe(426);
  });

  it('answers 413 PayloadTooLargeException over 128 KB', async () => {
    const h = await harness();
    const { id } = await h.connect();
    const err = await errorOf(post(h, id, new Uint8Array(128 * 1024 + 1)));
    expect(err.name).toBe('PayloadTooLargeException');
    expect(err.$metadata?.httpStatusCode).toBe(413);
  });

  it('throttles the configured share of posts with 429 LimitExceededException', async () => {
    const h = await harness();
    const { id } = await h.connect();
    h.gw.setFaults({ faultThrottle: 1 });
    const err = await errorOf(post(h, id, 'x'));
    expect(err.name).toBe('LimitExceededException');
    expect(err.$metadata?.httpStatusCode).toBe(429);
    expect(h.gw.stats().throttled).toBe(1);
    h.gw.setFaults({ faultThrottle: 0 });
    await post(h, id, 'x');
  });

  it('delays each management call by apiLatencyMs', async () => {
    const h = await harness({ apiLatencyMs: 80 });
    const { id } = await h.connect();
    const started = performance.now();
    await post(h, id, 'x');
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    h.gw.setFaults({ apiLatencyMs: 0 });
    const again = performance.now();
    await post(h, id, 'x');
    expect(performance.now() - again).toBeLessThan(75);
  });

  it('serves many concurrent posts over keep-alive', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    let received = 0;
    ws.on('message', () => received++);
    await Promise.all(Array.from({ length: 500 }, (_, i) => post(h, id, String(i))));
    await waitFor(() => received === 500);
    expect(h.gw.stats().posts).toBe(500);
  });
});

describe('$disconnect and timeouts', () => {
  it('runs $disconnect with the client close code and reason', async () => {
    const h = await harness();
    const { ws, id } = await h.connect();
    ws.close(4000, 'bye');
    await waitFor(() => h.callsOf('$disconnect').length === 1);
    expect(h.callsOf('$disconnect')[0]?.requestContext).toMatchObject({
      connectionId: id,
      disconnectStatusCode: 4000,
      disconnectReason: 'bye',
    });
    expect(h.gw.connectionCount()).toBe(0);
  });

  it('keeps serving when $disconnect fails (best effort, logged)', async () => {
    const logs: string[] = [];
    const h = await harness({ log: (level, msg) => logs.push(`${level} ${msg}`) });
    h.handlers.set('$disconnect', async () => {
      throw new Error('db down');
    });
    const { ws } = await h.connect();
    ws.close();
    await waitFor(() => logs.includes('warn $disconnect failed'));
    await h.connect();
  });

  it('skips $disconnect for the faultSkipDisconnect share, and the id still answers Gone', async () => {
    const h = await harness({ faultSkipDisconnect: 1 });
    const { ws, id } = await h.connect();
    const done = closed(ws);
    ws.close();
    await done;
    await waitFor(() => h.gw.connectionCount() === 0);
    await sleep(50);
    expect(h.callsOf('$disconnect')).toHaveLength(0);
    expect((await errorOf(post(h, id, 'x'))).name).toBe('GoneException');
  });

  it('closes an idle connection with 1001 Going away; activity keeps it open', async () => {
    const h = await harness({ idleTimeoutMs: 300 });
    const idle = await h.connect();
    const busy = await h.connect();
    const idleClosed = closed(idle.ws);
    const timer = setInterval(() => busy.ws.send('{"action":"oneway"}'), 50);
    try {
      expect(await idleClosed).toEqual({ code: 1001, reason: 'Going away' });
      await sleep(200);
      expect(busy.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(timer);
    }
    await waitFor(() => h.callsOf('$disconnect').length === 1);
    expect(h.callsOf('$disconnect')[0]?.requestContext).toMatchObject({
      connectionId: idle.id,
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
  });

  it('answers a MOCK route itself, invoking nothing, and the ping keeps an idle connection open', async () => {
    const routes = [...ALL_ROUTES, { routeKey: 'ping', twoWay: true, mockResponse: '{"type":"pong"}' }];
    const h = await harness({ routes, idleTimeoutMs: 300 });
    const pinging = await h.connect();
    const silent = await h.connect();
    const silentClosed = closed(silent.ws);
    const pongs: string[] = [];
    pinging.ws.on('message', (data: Buffer) => pongs.push(data.toString('utf8')));
    const timer = setInterval(() => pinging.ws.send('{"action":"ping"}'), 100);
    try {
      expect(await silentClosed).toEqual({ code: 1001, reason: 'Going away' });
      await sleep(200);
      expect(pinging.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(timer);
    }
    expect(pongs.length).toBeGreaterThan(2);
    expect(new Set(pongs)).toEqual(new Set(['{"type":"pong"}']));
    // Only the handshakes and the silent one's $disconnect ran: no function answered a ping.
    expect(h.calls.map((c) => c.routeKey).filter((k) => k !== '$connect' && k !== '$disconnect')).toEqual([]);
  });

  it('keeps open a connection that only receives server pushes (pushes count as activity)', async () => {
    const h = await harness({ idleTimeoutMs: 300 });
    const { ws, id } = await h.connect();
    ws.on('message', () => {});
    const timer = setInterval(() => void post(h, id, 'push').catch(() => {}), 50);
    try {
      await sleep(700);
      expect(ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(timer);
    }
    // Without pushes the same connection is idle again and closed.
    expect((await closed(ws)).code).toBe(1001);
  });

  it('closes every connection at the hard timeout even when active', async () => {
    const h = await harness({ hardTimeoutMs: 300 });
    const { ws } = await h.connect();
    const timer = setInterval(() => ws.send('{"action":"oneway"}'), 50);
    try {
      expect((await closed(ws)).code).toBe(1001);
    } finally {
      clearInterval(timer);
    }
  });

  it('close() ends every socket and invokes nothing afterwards', async () => {
    const h = await harness();
    const a = await h.connect();
    const b = await h.connect();
    const both = Promise.all([closed(a.ws), closed(b.ws)]);
    const before = h.calls.length;
    await h.gw.close();
    const codes = (await both).map((c) => c.code);
    expect(codes).toEqual([1001, 1001]);
    await sleep(50);
    expect(h.calls.length).toBe(before);
    expect(h.gw.connectionCount()).toBe(0);
  });
});
