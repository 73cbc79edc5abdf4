import { DeleteConnectionCommand, GetConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import { accountBucket } from '../../tools/local/gateway/limits';

import {
  ALL_ROUTES,
  closed,
  errorOf,
  harness,
  ID_FORMAT,
  nextMessage,
  post,
  rawHttp,
  refusedStatus,
  sleep,
  theDisconnect,
  waitFor,
} from './gatewayHarness';

/**
 * The local gateway (tests/local/gatewayHarness.ts): the integration timeout, route throttling, the management API
 * through the real SDK, $disconnect and idle timeouts.
 */
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

  it.each([
    ['dropped unstarted (its caller stopped waiting)', 'reject'],
    ['answered', 'resolve'],
  ])(
    'answers "Endpoint request timed out", once, for an invocation %s past the timeout before the timer ran',
    async (_, outcome) => {
      const h = await harness({
        // Long enough that a loaded machine still connects ($connect runs under the same timeout) before the
        // sendmessage invocation below overruns it.
        integrationTimeoutMs: 1000,
        invoke: (routeKey, event, startBy) => {
          h.calls.push({ routeKey, event });
          if (routeKey !== 'sendmessage' || startBy === undefined)
            return Promise.resolve({ statusCode: 200 });
          // The invocation settles as the local Lambda settles one whose turn came late: past the deadline, in an
          // event the loop runs before the gateway's timer.
          while (Date.now() < startBy + 20) {}
          return outcome === 'reject'
            ? Promise.reject(Object.assign(new Error('no environment in time'), { name: 'CallerGone' }))
            : Promise.resolve({ statusCode: 200, body: 'too late' });
        },
      });
      const { ws, id } = await h.connect();
      const seen: string[] = [];
      ws.on('message', (d: Buffer) => seen.push(d.toString()));
      ws.send('{"action":"sendmessage"}');
      await waitFor(() => seen.length === 1);
      await sleep(250);
      const requestId = h.callsOf('sendmessage')[0]?.requestContext.requestId;
      expect(seen).toEqual([
        `{"message": "Endpoint request timed out", "connectionId":"${id}", "requestId":"${requestId}"}`,
      ]);
    },
  );

  it('does not count the wait for a free local environment: an invocation queued past the timeout still answers', async () => {
    // On AWS the invocation would have started at once (Lambda scales; this machine has an environment per core):
    // the timeout counts its running time, not its wait here (tools/local/localWait.ts).
    const h = await harness({
      integrationTimeoutMs: 150,
      invoke: async (routeKey, event, _startBy, wait) => {
        h.calls.push({ routeKey, event });
        if (routeKey !== 'sendmessage') return { statusCode: 200 };
        wait?.queued();
        await sleep(450);
        wait?.started(450);
        return { statusCode: 200, body: 'answered after its wait' };
      },
    });
    const { ws } = await h.connect();
    const reply = nextMessage(ws);
    ws.send('{"action":"sendmessage"}');
    expect((await reply).text).toBe('answered after its wait');
  });

  it('counts the running time after the wait: an invocation that runs past the timeout once started times out', async () => {
    const h = await harness({
      integrationTimeoutMs: 150,
      invoke: async (routeKey, event, _startBy, wait) => {
        h.calls.push({ routeKey, event });
        if (routeKey !== 'sendmessage') return { statusCode: 200 };
        wait?.queued();
        await sleep(100);
        wait?.started(100);
        await sleep(400);
        return { statusCode: 200, body: 'too late' };
      },
    });
    const { ws, id } = await h.connect();
    const reply = nextMessage(ws);
    ws.send('{"action":"sendmessage"}');
    const text = (await reply).text;
    const requestId = h.callsOf('sendmessage')[0]?.requestContext.requestId;
    expect(text).toBe(
      `{"message": "Endpoint request timed out", "connectionId":"${id}", "requestId":"${requestId}"}`,
    );
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

  it('refuses the handshake with 504 when $connect answers past the timeout before the timer ran', async () => {
    const h = await harness({
      integrationTimeoutMs: 100,
      invoke: (routeKey, _event, startBy) => {
        while (routeKey === '$connect' && startBy !== undefined && Date.now() < startBy + 20) {}
        return Promise.resolve({ statusCode: 200 });
      },
    });
    expect(await refusedStatus(h.gw.url)).toBe(504);
  });
});

describe("the account's throttle (AWS's requests per second per account, @connections included)", () => {
  it('is 10,000 requests a second with a burst of 5,000, as the quotas page states', () => {
    const bucket = accountBucket(0);
    for (let i = 0; i < 5_000; i++) expect(bucket.take(0)).toBe(true);
    expect(bucket.take(0)).toBe(false);
    // 10 ms later, 100 more.
    for (let i = 0; i < 100; i++) expect(bucket.take(10)).toBe(true);
    expect(bucket.take(10)).toBe(false);
  });

  it('counts route frames and @connections calls against one bucket: past it a frame gets "Too Many Requests", a call 429', async () => {
    const h = await harness({ accountThrottling: { rateLimit: 0.001, burstLimit: 3 } });
    h.handlers.set('sendmessage', async () => ({ statusCode: 200, body: 'ok' }));
    // The handshake takes the first token.
    const { ws, id } = await h.connect();
    const seen: string[] = [];
    ws.on('message', (d: Buffer) => seen.push(d.toString()));
    ws.send('{"action":"sendmessage"}');
    await waitFor(() => seen.length === 1);
    expect((await h.sdk.send(new GetConnectionCommand({ ConnectionId: id }))).ConnectedAt).toBeDefined();
    const throttled = await errorOf(h.sdk.send(new GetConnectionCommand({ ConnectionId: id })));
    expect([throttled.name, throttled.$metadata?.httpStatusCode]).toEqual(['LimitExceededException', 429]);
    ws.send('{"action":"sendmessage"}');
    await waitFor(() => seen.length === 2);
    expect(JSON.parse(seen[1] ?? '{}')).toMatchObject({ message: 'Too Many Requests' });
    expect(h.callsOf('sendmessage')).toHaveLength(1);
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
    expect(await theDisconnect(h)).toMatchObject({
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

  it('answers 410 to a connection still in its handshake, and delivers once $connect has returned', async () => {
    const h = await harness();
    let finish: () => void = () => undefined;
    let shaking: (id: string) => void = () => undefined;
    const inHandshake = new Promise<string>((resolve) => {
      shaking = resolve;
    });
    h.handlers.set('$connect', async (event) => {
      shaking(event.requestContext.connectionId);
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      return { statusCode: 200 };
    });
    const connecting = h.connect();
    connecting.catch(() => undefined); // a failed expectation below must fail the test, not leave it unhandled
    const id = await inHandshake;
    try {
      // $connect is running (its function may already have written the connection's item): API Gateway answers Gone.
      const early = await errorOf(post(h, id, 'too early'));
      expect(early.name).toBe('GoneException');
      expect(early.$metadata?.httpStatusCode).toBe(410);
      expect((await errorOf(h.sdk.send(new GetConnectionCommand({ ConnectionId: id })))).name).toBe(
        'GoneException',
      );
    } finally {
      finish();
    }
    const { ws } = await connecting;
    const frame = nextMessage(ws);
    expect((await post(h, id, 'welcome')).$metadata.httpStatusCode).toBe(200);
    expect((await frame).text).toBe('welcome');
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
    // The latency's timer is the test's: a post is answered when the test says its latency has passed, so the
    // machine's speed decides nothing.
    const timers: { answer: () => void; ms: number }[] = [];
    const h = await harness({ apiLatencyMs: 600, latencyTimer: (answer, ms) => timers.push({ answer, ms }) });
    const { ws, id } = await h.connect();
    const frames: string[] = [];
    ws.on('message', (data: Buffer) => frames.push(data.toString()));
    let delayedAnswered = false;
    const delayed = post(h, id, 'delayed').then(() => {
      delayedAnswered = true;
    });
    await waitFor(() => timers.length === 1);
    expect(timers[0]?.ms).toBe(600);
    // Without the latency a post is answered, and its frame sent, while the first still waits out its own.
    h.gw.setFaults({ apiLatencyMs: 0 });
    await post(h, id, 'at once');
    await waitFor(() => frames.length === 1);
    expect(delayedAnswered).toBe(false);
    expect(timers).toHaveLength(1);
    timers[0]?.answer();
    await delayed;
    await waitFor(() => frames.length === 2);
    expect(frames).toEqual(['at once', 'delayed']);
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
    expect(await theDisconnect(h)).toMatchObject({
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

  /**
   * The idle timeout these tests scale API Gateway's 10 minutes down to. The active side sends every 50-100 ms, so
   * it stays open only while the test process's timers run late by less than this, and on a CI machine running three
   * test files on two cores they can run hundreds of milliseconds late.
   */
  const IDLE_MS = 1_500;

  /**
   * Sends `frame` on `active` every `everyMs` until the idle connection closes: it closes with 1001 Going away, and
   * `active` is still open a moment later.
   */
  async function goesAwayWhileOtherSends(
    idleClosed: Promise<{ code: number; reason: string }>,
    active: WebSocket,
    frame: string,
    everyMs: number,
  ): Promise<void> {
    const timer = setInterval(() => active.send(frame), everyMs);
    try {
      expect(await idleClosed).toEqual({ code: 1001, reason: 'Going away' });
      await sleep(200);
      expect(active.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(timer);
    }
  }

  it('closes an idle connection with 1001 Going away; activity keeps it open', async () => {
    const h = await harness({ idleTimeoutMs: IDLE_MS });
    const idle = await h.connect();
    const busy = await h.connect();
    const idleClosed = closed(idle.ws);
    await goesAwayWhileOtherSends(idleClosed, busy.ws, '{"action":"oneway"}', 50);
    expect(await theDisconnect(h)).toMatchObject({
      connectionId: idle.id,
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
  });

  it('answers a MOCK route itself, invoking nothing, and the ping keeps an idle connection open', async () => {
    const routes = [...ALL_ROUTES, { routeKey: 'ping', twoWay: true, mockResponse: '{"type":"pong"}' }];
    const h = await harness({ routes, idleTimeoutMs: IDLE_MS });
    const pinging = await h.connect();
    const silent = await h.connect();
    const silentClosed = closed(silent.ws);
    const pongs: string[] = [];
    pinging.ws.on('message', (data: Buffer) => pongs.push(data.toString('utf8')));
    await goesAwayWhileOtherSends(silentClosed, pinging.ws, '{"action":"ping"}', 100);
    expect(pongs.length).toBeGreaterThan(2);
    expect(new Set(pongs)).toEqual(new Set(['{"type":"pong"}']));
    // Only the handshakes and the silent one's $disconnect ran: no function answered a ping.
    expect(h.calls.map((c) => c.routeKey).filter((k) => k !== '$connect' && k !== '$disconnect')).toEqual([]);
  });

  it('keeps open a connection that only receives server pushes (pushes count as activity)', async () => {
    const h = await harness({ idleTimeoutMs: IDLE_MS });
    const { ws, id } = await h.connect();
    ws.on('message', () => {});
    const timer = setInterval(() => void post(h, id, 'push').catch(() => {}), 50);
    try {
      await sleep(2 * IDLE_MS);
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
