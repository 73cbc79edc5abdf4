import WebSocket from 'ws';
import { LambdaServiceError } from '../../tools/local/lambda/service';

import {
  closed,
  type Harness,
  harness,
  ID_FORMAT,
  nextMessage,
  open,
  refusedStatus,
  sleep,
  theDisconnect,
  waitFor,
} from './gatewayHarness';

/** The local gateway (tests/local/gatewayHarness.ts): options, $connect, messages and AWS's limits on client frames. */

/**
 * Opens a connection of `h`, does `send` on it and waits for the gateway to close it: the close's code and reason,
 * once $disconnect was run for that connection with that code.
 */
async function closedAfter(
  h: Harness,
  send: (ws: WebSocket) => void,
): Promise<{ code: number; reason: string }> {
  const { ws, id } = await h.connect();
  const done = closed(ws);
  send(ws);
  const close = await done;
  expect(await theDisconnect(h)).toMatchObject({ connectionId: id, disconnectStatusCode: close.code });
  return close;
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
    expect((await closedAfter(h, (ws) => ws.send('x'.repeat(1025)))).code).toBe(1009);
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
    const close = await closedAfter(h, (ws) =>
      ws.send(JSON.stringify({ action: 'sendmessage', message: 'x'.repeat(40 * 1024) })),
    );
    expect(close).toEqual({ code: 1009, reason: 'Message too big' });
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
    const close = await closedAfter(h, (ws) =>
      ws.send(Buffer.from('{"action":"sendmessage"}'), { binary: true }),
    );
    expect(close.code).toBe(1003);
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
