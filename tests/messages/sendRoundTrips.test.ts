import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as sendmessage } from '#messages/sendmessage';
import { frameOf, sampleEvent } from '../helpers/events';
import { DEFAULT_GUARDS, withSettings } from '../helpers/unitSettings';

/**
 * SendMessage's DynamoDB round trips: what a sender waits for before its message reaches the bus. Every call is
 * answered one event-loop turn later, and the test counts the longest chain of calls that each started after
 * the previous one ended (calls started together are one round trip).
 */

const db = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);
const ME = 'Lw7Hzc2tIAMCJPQ=';
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

interface Call {
  what: string;
  input: Record<string, unknown>;
  start: number;
  end: number;
}
let clock = 0;
let calls: Call[] = [];
let publishedAt: number | undefined;

/** Answers a command one turn later, recording when it started and ended. */
function timed<T>(what: string, answer: (input: Record<string, unknown>) => T) {
  return async (input: Record<string, unknown>) => {
    const call: Call = { what, input, start: ++clock, end: Number.POSITIVE_INFINITY };
    calls.push(call);
    await new Promise((resolve) => setImmediate(resolve));
    call.end = ++clock;
    return answer(input);
  };
}

/** The longest chain of sequential calls among those that started before `before`. */
function roundTrips(before = Number.POSITIVE_INFINITY): number {
  const depth = new Map<Call, number>();
  const sorted = calls.filter((c) => c.start < before).sort((a, b) => a.start - b.start);
  for (const call of sorted) {
    const prior = sorted.filter((c) => c.end < call.start).map((c) => depth.get(c) ?? 1);
    depth.set(call, 1 + Math.max(0, ...prior));
  }
  return Math.max(0, ...depth.values());
}

const published = () =>
  bus
    .commandCalls(PutEventsCommand)
    .flatMap((c) =>
      (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.Detail ?? '{}') as { messageId: string }),
    );
const transactions = () => calls.filter((c) => c.what === 'TransactWrite');
/** Writes that store something of the message: its seq, its record, the message. */
const stores = () => calls.filter((c) => /Rooms|Messages|Put test-Sends/.test(c.what));

beforeAll(() => {
  // The default send rate and frame budget (functions/platform/settingsSchema.ts), so the token bucket and the
  // frame count are part of the path measured.
  withSettings(DEFAULT_GUARDS);
});
// Back to tests/setup/env.ts: the guards off.
afterAll(() => withSettings());

/** The frame count (guard.ts): a conditional UpdateItem on the connection that returns it. */
const isFrameCount = (input: Record<string, unknown>) =>
  String(input.UpdateExpression).includes('frameCount');
/** The connection item as the table has it now. */
let stored: Record<string, unknown>;

const connection = (extra: Record<string, unknown> = {}) => ({
  Item: {
    connectionId: ME,
    roomId: 'K7M2QD',
    username: 'alice',
    connectedAt: '2026-11-21T12:00:00.000Z',
    ...extra,
  },
});

beforeEach(() => {
  db.reset();
  bus.reset();
  calls = [];
  clock = 0;
  publishedAt = undefined;
  stored = connection().Item;
  db.on(GetCommand, { TableName: 'test-Connections' }).callsFake(
    timed('Get test-Connections', () => ({ Item: stored })),
  );
  db.on(UpdateCommand, { TableName: 'test-Connections' }).callsFake(
    timed('Update test-Connections', (input) =>
      isFrameCount(input) ? { Attributes: { ...stored, frameWindow: 1, frameCount: 1 } } : {},
    ),
  );
  db.on(UpdateCommand, { TableName: 'test-Rooms' }).callsFake(
    // The previous take's values (UPDATED_OLD): this take is seq 42.
    timed('Update test-Rooms', () => ({ Attributes: { seq: 41 } })),
  );
  db.on(GetCommand, { TableName: 'test-Sends' }).callsFake(timed('Get test-Sends', () => ({})));
  db.on(PutCommand, { TableName: 'test-Sends' }).callsFake(timed('Put test-Sends', () => ({})));
  db.on(PutCommand, { TableName: 'test-Messages' }).callsFake(timed('Put test-Messages', () => ({})));
  db.on(TransactWriteCommand).callsFake(timed('TransactWrite', () => ({})));
  db.on(UpdateCommand, { TableName: 'test-Sends' }).callsFake(timed('Update test-Sends', () => ({})));
  bus.on(PutEventsCommand).callsFake(() => {
    publishedAt ??= ++clock;
    return { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] };
  });
});

describe('sendmessage round trips', () => {
  it('reaches the bus after 5 sequential DynamoDB round trips with a clientMsgId, none a transaction, and writes nothing after it', async () => {
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ type: 'ack', seq: 42 });
    expect(publishedAt).toBeDefined();
    expect(roundTrips(publishedAt)).toBe(5);
    expect(roundTrips()).toBe(5);
    // The frame count (which returns the connection); the token and the clientMsgId's record at once; the seq
    // (ADD on the room's counter); the record; the message. The room is not read, nothing is transacted.
    expect(calls.map((c) => c.what)).toEqual([
      'Update test-Connections',
      'Update test-Connections',
      'Get test-Sends',
      'Update test-Rooms',
      'Put test-Sends',
      'Put test-Messages',
    ]);
    expect(isFrameCount(calls[0]?.input ?? {})).toBe(true);
    expect(String(stores()[0]?.input.UpdateExpression)).toMatch(/^ADD seq :one/);
    expect(transactions()).toHaveLength(0);
  });

  it('reaches the bus after 4 sequential DynamoDB round trips without a clientMsgId, recording no send', async () => {
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage', { body: { message: 'no id' } })));
    expect(ack).toMatchObject({ type: 'ack', seq: 42 });
    expect(roundTrips(publishedAt)).toBe(4);
    expect(stores().map((c) => c.what)).toEqual(['Update test-Rooms', 'Put test-Messages']);
  });

  it('answers BUSY, retryable, when DynamoDB throttles the room past the SDK retries, storing nothing', async () => {
    db.on(UpdateCommand, { TableName: 'test-Rooms' }).callsFake(
      timed('Update test-Rooms', () => {
        throw Object.assign(
          new Error('Throughput exceeds the current capacity for one or more partitions.'),
          {
            name: 'ProvisionedThroughputExceededException',
            $metadata: { httpStatusCode: 400 },
          },
        );
      }),
    );
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'BUSY', clientMsgId: 'c0ffee-0001' });
    expect(frame.message).toMatch(/same clientMsgId/);
    expect(calls.filter((c) => c.what.startsWith('Put'))).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });

  it('writes nothing and publishes nothing when the bucket it read is already empty', async () => {
    stored = connection({ sendBucket: { tokens: 0, at: Date.now() } }).Item;
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'RATE_LIMITED', clientMsgId: 'c0ffee-0001' });
    // The frame is counted (and the refusal struck), and nothing else is written.
    expect(calls.filter((c) => c.what !== 'Get test-Sends').map((c) => c.input.UpdateExpression)).toEqual([
      expect.stringContaining('frameCount'),
      'ADD strikes :one',
    ]);
    expect(published()).toHaveLength(0);
  });

  it('stores nothing when another send of this connection takes the last token first', async () => {
    stored = connection({ sendBucket: { tokens: 1, at: Date.now() } }).Item;
    db.on(GetCommand, { TableName: 'test-Connections' }).callsFake(
      timed('Get test-Connections', () => connection({ sendBucket: { tokens: 0, at: Date.now() } })),
    );
    db.on(UpdateCommand, { TableName: 'test-Connections' }).callsFake(
      timed('Update test-Connections', (input) => {
        if (isFrameCount(input)) return { Attributes: stored };
        if (input.UpdateExpression === 'ADD strikes :one') return { Attributes: { strikes: 1 } };
        throw conditionFailed();
      }),
    );
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(stores()).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });

  it('closes a connection on its first frame over the budget, with no strike and nothing else read or written', async () => {
    const management = mockClient(ApiGatewayManagementApiClient);
    management.on(PostToConnectionCommand).resolves({});
    management.on(DeleteConnectionCommand).resolves({});
    db.on(UpdateCommand, { TableName: 'test-Connections' }).callsFake(
      timed('Update test-Connections', (input) =>
        isFrameCount(input)
          ? { Attributes: { ...stored, frameWindow: Math.floor(Date.now() / 60_000), frameCount: 101 } }
          : { Attributes: { strikes: 1 } },
      ),
    );
    try {
      const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
      expect(frame).toMatchObject({ type: 'error', code: 'RATE_LIMITED', clientMsgId: 'c0ffee-0001' });
      expect(frame.message).toMatch(/100 requests every 60 s, messages included/);
      // The count, then the mark that it is closing (its frames in flight cost their count alone), no strike; the
      // connection is told why and closed at once.
      expect(calls.map((c) => c.input.UpdateExpression)).toEqual([
        expect.stringContaining('frameCount'),
        'SET closing = :yes',
      ]);
      expect(management.commandCalls(DeleteConnectionCommand)).toHaveLength(1);
      const told = JSON.parse(
        String(management.commandCalls(PostToConnectionCommand)[0]?.args[0].input.Data),
      );
      expect(told).toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringContaining('connection is closed'),
      });
      expect(stores()).toHaveLength(0);
      expect(published()).toHaveLength(0);
    } finally {
      management.restore();
    }
  });

  it('counts a malformed frame and strikes it, storing nothing', async () => {
    for (const body of [
      {},
      { message: '' },
      { message: 'é'.repeat(2049) },
      { message: 'hi', clientMsgId: '<x>' },
    ]) {
      calls = [];
      const frame = frameOf(await sendmessage(sampleEvent('sendmessage', { body })));
      expect(frame).toMatchObject({ type: 'error', action: 'sendmessage' });
      expect(['BAD_REQUEST', 'MESSAGE_TOO_LARGE']).toContain(frame.code);
      expect(calls.map((c) => c.input.UpdateExpression)).toEqual([
        expect.stringContaining('frameCount'),
        'ADD strikes :one',
      ]);
    }
    expect(stores()).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });
});

describe("a person's budget refused from the environment's memory (core/limits/personRate.ts)", () => {
  afterEach(() => withSettings(DEFAULT_GUARDS));

  it('answers the refusal the store gave, with the frame count and the connection token alone', async () => {
    withSettings({ ...DEFAULT_GUARDS, PersonSendRateLimit: 2, PersonRateWindowSeconds: 3600 });
    // The person's bucket full until an hour from now: refused for half an hour (its item, returned with the
    // refused write, says so).
    const fullAt = Date.now() + 3_600_000;
    db.on(UpdateCommand, { TableName: 'test-Limits' }).callsFake(
      timed('Update test-Limits', () => {
        throw Object.assign(conditionFailed(), { Item: { fullAt: { N: String(fullAt) } } });
      }),
    );
    db.on(QueryCommand).callsFake(timed('Query', () => ({ Items: [] })));
    const send = () =>
      sendmessage(sampleEvent('sendmessage', { body: { message: '@bob hi', clientMsgId: 'c0ffee-0002' } }));
    const first = frameOf(await send());
    expect(first).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(first.message).toMatch(/from all your connections together/);
    expect(calls.map((c) => c.what)).toContain('Update test-Limits');
    calls = [];
    expect(frameOf(await send())).toEqual(first);
    // The frame count, then the connection's own token as a send refused by the store takes it; no strike.
    expect(calls.map((c) => c.what)).toEqual(['Update test-Connections', 'Update test-Connections']);
    expect(calls.map((c) => c.input.UpdateExpression)).toEqual([
      expect.stringContaining('frameCount'),
      expect.stringContaining('sendBucket'),
    ]);
    expect(stores()).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });
});
