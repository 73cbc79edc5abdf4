import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { SignedPoster } from '#core/aws/notifier';
import { REPLY_MARGIN_MS } from '#core/websocket';
import { POSTS_IN_FLIGHT } from '#deliver/delivery';
import { handler as deliver, GIVE_UP_MS, STOP_POSTING_MS } from '#deliver/index';
import { handler as sendmessage } from '#messages/sendmessage';
import { sampleEvent } from '../helpers/events';
import { FakeManagementApi } from '../helpers/fakeManagementApi';

/**
 * Functions that know their deadline: what they did not finish before their timeout, they hand back in time.
 * The deadlines run on Jest's fake clock (Date.now and setTimeout), so a test stages a timeout seconds away without
 * waiting for it, and a deadline is met or missed by the same milliseconds however busy the machine is. Deliver's
 * posts still go over HTTP to a local stand-in for the stage; the test lets that real I/O settle before it moves
 * the clock on.
 */
const stage = new FakeManagementApi();
const db = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);

/** A Lambda context whose timeout is `ms` from now. */
function contextEnding(ms: number): Context {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) } as unknown as Context;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fake clock fakes Date and the timers; the event loop's own turns stay real, so I/O goes on. */
const useFakeClock = () => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });

/**
 * On the fake clock, Alice in the lobby sending a message that takes seq 7 (the previous take's UPDATED_OLD is 6),
 * the send's Gets reading back the record and the message the test's Puts keep in `stored`.
 */
function aliceTakingSeqSeven() {
  useFakeClock();
  db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
    Item: { connectionId: 'Lw7Hzc2tIAMCJPQ=', roomId: 'lobby', username: 'alice' },
  });
  db.on(UpdateCommand).resolves({ Attributes: { seq: 6 } });
  const stored: { record?: Record<string, unknown>; message?: Record<string, unknown> } = {};
  db.on(GetCommand, { TableName: 'test-Sends' }).callsFake(async () => ({ Item: stored.record }));
  db.on(GetCommand, { TableName: 'test-Messages' }).callsFake(async () => ({ Item: stored.message }));
  return stored;
}

/** Waits, in event-loop turns and not on the clock, until `done()` holds (the I/O it waits for is local). */
async function settled(done: () => boolean): Promise<void> {
  for (let turns = 0; !done(); turns++) {
    if (turns > 100_000) throw new Error('the local I/O never settled');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Settles `work` and notes the (fake) time it settled at. */
function timed<T>(work: Promise<T>): { done: Promise<T>; at: () => number | undefined } {
  let at: number | undefined;
  const done = work.finally(() => {
    at = Date.now();
  });
  done.catch(() => undefined);
  return { done, at: () => at };
}

beforeAll(async () => {
  process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = await stage.start();
});

afterAll(async () => {
  await stage.stop();
});

beforeEach(() => {
  stage.hang.clear();
  stage.delayMs = 0;
  stage.arrived.length = 0;
  db.reset();
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** A chunk of a broadcast to everyone, as PostChunks hands it to Deliver: one frame, posted as is. */
const chunkOf = (connectionIds: string[]) => ({
  op: 'post' as const,
  roomId: null,
  frames: [{ payload: '{}', lastSeq: 0, messages: 0 }],
  connectionIds,
});

/** The members Deliver handed back for the state machine's repost. */
const reposted = (report: { retry?: Record<string, number> }) => Object.keys(report.retry ?? {});

describe('deliver before its timeout', () => {
  it('answers before the timeout, handing the posts it did not start to a repost and never posting again those left unanswered', async () => {
    useFakeClock();
    const hung = ['hung-0', 'hung-1'];
    const ids = [...hung, ...Array.from({ length: 2 * POSTS_IN_FLIGHT + 20 }, (_, i) => `c-${i}`)];
    for (const id of hung) stage.hang.add(id);
    stage.delayMs = 400;
    // Answers come 400 ms after a post, the moment posting stops; waiting stops 1 s before the timeout.
    const timeoutMs = STOP_POSTING_MS + 400;
    let answered = 0;
    const post = SignedPoster.prototype.post;
    jest.spyOn(SignedPoster.prototype, 'post').mockImplementation(function (this: SignedPoster, ...args) {
      return post.apply(this, args).finally(() => answered++);
    });
    const started = Date.now();
    const run = timed(deliver(chunkOf(ids), contextEnding(timeoutMs)));
    // The first posts (one per slot) reach the stage; 400 ms on, all but the hung ones are answered.
    await settled(() => stage.arrived.length === POSTS_IN_FLIGHT);
    await jest.advanceTimersByTimeAsync(stage.delayMs);
    await settled(() => answered === POSTS_IN_FLIGHT - hung.length);
    // On to the timeout itself: Deliver must have answered before it.
    await jest.advanceTimersByTimeAsync(timeoutMs - stage.delayMs);
    const report = await run.done;
    const tookMs = (run.at() as number) - started;

    expect(tookMs).toBeLessThan(timeoutMs - GIVE_UP_MS + 500);
    const notStarted = ids.filter((id) => !stage.arrived.includes(id));
    expect(notStarted.length).toBeGreaterThan(0);
    expect(new Set(reposted(report))).toEqual(new Set(notStarted));
    for (const id of hung) expect(reposted(report)).not.toContain(id);
    expect(report).toMatchObject({ retrying: true, goneIds: [] });
    // The hung posts end too, so nothing of this test runs on after it.
    stage.dropHung();
    await settled(() => answered === POSTS_IN_FLIGHT);
  });

  it('posts the whole chunk when there is time', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `c-${i}`);
    const report = await deliver(chunkOf(ids), contextEnding(30_000));
    expect(report).toEqual({ retrying: false, waitSeconds: 2, goneIds: [] });
    expect(new Set(stage.arrived)).toEqual(new Set(ids));
  });
});

describe('sendmessage before its timeout', () => {
  /** A sendmessage whose Lambda timeout is REPLY_MARGIN_MS + 500 ms away, run on the fake clock up to that timeout. */
  async function sendUntilTimeout(clientMsgId: string) {
    const timeoutMs = REPLY_MARGIN_MS + 500;
    const started = Date.now();
    const run = timed(
      sendmessage(
        sampleEvent('sendmessage', {
          body: JSON.stringify({ action: 'sendmessage', message: 'hi', clientMsgId }),
        }),
        contextEnding(timeoutMs),
      ),
    );
    await jest.advanceTimersByTimeAsync(timeoutMs);
    return { reply: await run.done, tookMs: (run.at() as number) - started, timeoutMs };
  }

  it('answers a retryable BUSY error frame before the timeout when its table does not answer', async () => {
    useFakeClock();
    // The connection is read only after the reply went out: the abandoned send must then not take a seq.
    db.on(GetCommand, { TableName: 'test-Connections' }).callsFake(async () => {
      await sleep(REPLY_MARGIN_MS + 1000);
      return { Item: { connectionId: 'Lw7Hzc2tIAMCJPQ=', roomId: 'lobby', username: 'alice' } };
    });
    db.on(GetCommand, { TableName: 'test-Sends' }).resolves({});
    db.on(PutCommand).resolves({});
    // The previous take's seq (UPDATED_OLD): this send takes seq 1.
    db.on(UpdateCommand).resolves({ Attributes: { seq: 0 } });
    const { reply, tookMs, timeoutMs } = await sendUntilTimeout('c1');
    expect(tookMs).toBeLessThan(timeoutMs);
    expect(reply).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(String((reply as { body: string }).body))).toMatchObject({
      type: 'error',
      code: 'BUSY',
      action: 'sendmessage',
    });
    // Past the moment the connection is read, and on until the send has nothing left to wait for.
    await jest.runAllTimersAsync();
    expect(db.commandCalls(GetCommand).length).toBeGreaterThan(0);
    expect(db.commandCalls(UpdateCommand, { TableName: 'test-Rooms' })).toHaveLength(0);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('an answered-busy send whose message put lands after its invocation ended stores the message once; it and its retry publish the same event', async () => {
    const stored = aliceTakingSeqSeven();
    db.on(PutCommand, { TableName: 'test-Sends' }).callsFake(
      async (input: { Item: Record<string, unknown> }) => {
        stored.record = input.Item;
        return {};
      },
    );
    // The message's put outlasts the invocation (answered busy at its reply margin, ended 500 ms later): on Lambda
    // the rest runs only when the environment is thawed for a later invocation, when a retry may be publishing.
    db.on(PutCommand, { TableName: 'test-Messages' }).callsFake(
      async (input: { Item: Record<string, unknown> }) => {
        await sleep(REPLY_MARGIN_MS + 1000);
        stored.message ??= input.Item;
        return {};
      },
    );
    const { reply } = await sendUntilTimeout('c2');
    expect(JSON.parse(String((reply as { body: string }).body))).toMatchObject({ code: 'BUSY' });
    await jest.advanceTimersByTimeAsync(REPLY_MARGIN_MS + 1000);
    expect(db.commandCalls(PutCommand, { TableName: 'test-Messages' })).toHaveLength(1);
    // Resumed, the attempt publishes what it stored.
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(1);
    // The client's retry finds the record and the message and publishes the same event: the fan-out queue keeps one.
    const retry = await sendmessage(
      sampleEvent('sendmessage', {
        body: JSON.stringify({ action: 'sendmessage', message: 'hi', clientMsgId: 'c2' }),
      }),
      contextEnding(10_000),
    );
    expect(JSON.parse(String((retry as { body: string }).body))).toMatchObject({ type: 'ack', seq: 7 });
    const entries = bus.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries);
    expect(entries).toHaveLength(2);
    // The same MessageSent event; each wakes the room for seq 7 (the first as its tick's waker, the retry naming it).
    expect(entries[1]?.[0]).toEqual(entries[0]?.[0]);
    expect(entries.map((e) => e?.[1]?.DetailType)).toEqual(['RoomWake', 'RoomWake']);
    expect(entries.map((e) => JSON.parse(String(e?.[1]?.Detail)).seq)).toEqual([7, 7]);
  });

  it('a stored message whose first attempt was frozen inside PutEvents is published by each retry, the same event each time', async () => {
    const stored = aliceTakingSeqSeven();
    // The first attempt stores the message; its PutEvents never returns (on Lambda an invocation that answered busy
    // is frozen, and its environment may be shut down before it goes on). Every later attempt finds its record.
    db.on(PutCommand, { TableName: 'test-Sends' }).callsFake(
      async (input: { Item: Record<string, unknown> }) => {
        if (stored.record)
          throw Object.assign(new Error('The conditional request failed'), {
            name: 'ConditionalCheckFailedException',
            Item: marshall(stored.record),
          });
        stored.record = input.Item;
        return {};
      },
    );
    db.on(PutCommand, { TableName: 'test-Messages' }).callsFake(
      async (input: { Item: Record<string, unknown> }) => {
        stored.message ??= input.Item;
        return {};
      },
    );
    bus
      .on(PutEventsCommand)
      .callsFakeOnce(() => new Promise(() => undefined))
      .resolves({ FailedEntryCount: 0, Entries: [] });
    const send = (timeoutMs: number) =>
      sendmessage(
        sampleEvent('sendmessage', {
          body: JSON.stringify({ action: 'sendmessage', message: 'hi', clientMsgId: 'c3' }),
        }),
        contextEnding(timeoutMs),
      ).then((reply) => JSON.parse(String((reply as { body: string }).body)));
    const first = send(10_000);
    await settled(() => bus.commandCalls(PutEventsCommand).length === 1);
    // Retried while the first invocation may still run (the client gave up waiting): the ack, and the same event
    // published, since nothing tells whether the first one's will ever reach the bus.
    expect(await send(10_000)).toMatchObject({ type: 'ack', clientMsgId: 'c3', seq: 7 });
    await jest.advanceTimersByTimeAsync(10_001);
    expect(await first).toMatchObject({ code: 'BUSY' });
    expect(await send(10_000)).toMatchObject({ type: 'ack', clientMsgId: 'c3', seq: 7 });
    const entries = bus.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries);
    expect(entries).toHaveLength(3);
    // The same MessageSent event each time, and each a wake of the room for seq 7.
    expect(entries[1]?.[0]).toEqual(entries[0]?.[0]);
    expect(entries[2]?.[0]).toEqual(entries[0]?.[0]);
    expect(entries.map((e) => JSON.parse(String(e?.[1]?.Detail)).seq)).toEqual([7, 7, 7]);
    // Neither retry took a seq: each answered from the record.
    expect(db.commandCalls(UpdateCommand, { TableName: 'test-Rooms' })).toHaveLength(1);
  });
});
