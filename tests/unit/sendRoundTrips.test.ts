import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as sendmessage } from '../../functions/sendmessage';
import { frameOf, sampleEvent } from '../helpers/events';

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

const sendsUpdates = () =>
  calls.filter((c) => c.what === 'Update test-Sends').map((c) => String(c.input.UpdateExpression));
const published = () =>
  bus
    .commandCalls(PutEventsCommand)
    .flatMap((c) =>
      (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.Detail ?? '{}') as { messageId: string }),
    );

beforeAll(() => {
  // The template's default send rate, so the token bucket is part of the path measured.
  process.env.SEND_RATE_LIMIT = '10';
  process.env.SEND_RATE_WINDOW_SECONDS = '10';
});

beforeEach(() => {
  db.reset();
  bus.reset();
  calls = [];
  clock = 0;
  publishedAt = undefined;
  db.on(GetCommand, { TableName: 'test-Connections' }).callsFake(
    timed('Get test-Connections', () => ({
      Item: {
        connectionId: ME,
        roomId: 'K7M2QD',
        username: 'alice',
        connectedAt: '2026-11-21T12:00:00.000Z',
      },
    })),
  );
  db.on(UpdateCommand, { TableName: 'test-Connections' }).callsFake(
    timed('Update test-Connections', () => ({})),
  );
  db.on(PutCommand, { TableName: 'test-Sends' }).callsFake(timed('Put test-Sends', () => ({})));
  db.on(UpdateCommand, { TableName: 'test-Rooms' }).callsFake(
    timed('Update test-Rooms', () => ({ Attributes: { seq: 42 } })),
  );
  db.on(UpdateCommand, { TableName: 'test-Sends' }).callsFake(timed('Update test-Sends', () => ({})));
  db.on(PutCommand, { TableName: 'test-Messages' }).callsFake(timed('Put test-Messages', () => ({})));
  db.on(DeleteCommand, { TableName: 'test-Sends' }).callsFake(timed('Delete test-Sends', () => ({})));
  bus.on(PutEventsCommand).callsFake(() => {
    publishedAt ??= ++clock;
    return { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] };
  });
});

describe('sendmessage round trips', () => {
  it('reaches the bus after at most 4 sequential DynamoDB round trips with a clientMsgId', async () => {
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ type: 'ack', seq: 42 });
    expect(publishedAt).toBeDefined();
    expect(roundTrips(publishedAt)).toBeLessThanOrEqual(4);
    // Every write the guarantees need is still made: token, claim, seq, record, message, published.
    expect(calls.map((c) => c.what).sort()).toEqual(
      [
        'Get test-Connections',
        'Update test-Connections',
        'Put test-Sends',
        'Update test-Rooms',
        'Update test-Sends',
        'Put test-Messages',
        'Update test-Sends',
      ].sort(),
    );
    // The seq is recorded with the publish claim; markPublished comes after the bus.
    expect(sendsUpdates()).toEqual([
      'SET seq = :seq, sentAt = :sentAt, publishingSince = :now',
      'SET published = :true',
    ]);
    expect(roundTrips()).toBeLessThanOrEqual(5);
  });

  it('reaches the bus after at most 4 sequential DynamoDB round trips without a clientMsgId', async () => {
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage', { body: { message: 'no id' } })));
    expect(ack).toMatchObject({ type: 'ack', seq: 42 });
    expect(roundTrips(publishedAt)).toBeLessThanOrEqual(4);
    expect(calls.filter((c) => c.what.endsWith('test-Sends'))).toHaveLength(0);
  });
});

describe('sendmessage guarantees on the shorter path', () => {
  it('gives the claim back when it loses the race for the last token, so the retry starts clean', async () => {
    // The bucket read holds one token; another send of this connection takes it first.
    const bucket = { tokens: 1, at: Date.now() };
    db.on(GetCommand, { TableName: 'test-Connections' })
      .callsFakeOnce(
        timed('Get test-Connections', () => ({
          Item: {
            connectionId: ME,
            roomId: 'K7M2QD',
            username: 'alice',
            connectedAt: 'x',
            sendBucket: bucket,
          },
        })),
      )
      .callsFake(
        timed('Get test-Connections', () => ({
          Item: {
            connectionId: ME,
            roomId: 'K7M2QD',
            username: 'alice',
            connectedAt: 'x',
            sendBucket: { tokens: 0, at: Date.now() },
          },
        })),
      );
    db.on(UpdateCommand, { TableName: 'test-Connections' }).rejects(conditionFailed());
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    const deleted = db.commandCalls(DeleteCommand, { TableName: 'test-Sends' });
    expect(deleted.map((c) => c.args[0].input.Key)).toEqual([{ sendKey: 'K7M2QD#alice#c0ffee-0001' }]);
    expect(calls.filter((c) => c.what === 'Update test-Rooms')).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });

  it('writes nothing when the bucket it read is already empty', async () => {
    db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
      Item: {
        connectionId: ME,
        roomId: 'K7M2QD',
        username: 'alice',
        connectedAt: 'x',
        sendBucket: { tokens: 0, at: Date.now() },
      },
    });
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(calls).toHaveLength(0);
  });

  it('a retry that stores the missing message itself publishes it, even while the first claim is young', async () => {
    // The first attempt recorded seq 7 with its publish claim, then failed to store the message.
    db.on(PutCommand, { TableName: 'test-Sends' }).rejects(conditionFailed());
    db.on(GetCommand, { TableName: 'test-Sends' }).resolves({
      Item: {
        sendKey: 'K7M2QD#alice#c0ffee-0001',
        messageId: 'first-id',
        seq: 7,
        sentAt: '2026-11-22T08:00:00.000Z',
        published: false,
        claimedAt: Date.now(),
        publishingSince: Date.now(),
      },
    });
    db.on(QueryCommand, { TableName: 'test-Messages' }).resolves({ Items: [] });
    // A claim younger than 10 s refuses an ordinary claimPublish, as DynamoDB's condition would.
    db.on(UpdateCommand, { TableName: 'test-Sends' }).callsFake((input: { ConditionExpression?: string }) => {
      if (input.ConditionExpression?.includes('publishingSince <')) throw conditionFailed();
      return {};
    });
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ type: 'ack', messageId: 'first-id', seq: 7 });
    expect(published().map((e) => e.messageId)).toEqual(['first-id']);
  });

  it('a retry that finds the message stored by the first attempt leaves publishing to the young claim', async () => {
    db.on(PutCommand, { TableName: 'test-Sends' }).rejects(conditionFailed());
    db.on(GetCommand, { TableName: 'test-Sends' }).resolves({
      Item: {
        sendKey: 'K7M2QD#alice#c0ffee-0001',
        messageId: 'first-id',
        seq: 7,
        sentAt: 'x',
        published: false,
        claimedAt: Date.now(),
        publishingSince: Date.now(),
      },
    });
    db.on(QueryCommand, { TableName: 'test-Messages' }).resolves({
      Items: [
        { roomId: 'K7M2QD', seq: 7, messageId: 'first-id', username: 'alice', text: 'hi', sentAt: 'x' },
      ],
    });
    db.on(UpdateCommand, { TableName: 'test-Sends' }).callsFake((input: { ConditionExpression?: string }) => {
      if (input.ConditionExpression?.includes('publishingSince <')) throw conditionFailed();
      return {};
    });
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ type: 'ack', messageId: 'first-id', seq: 7 });
    expect(published()).toHaveLength(0);
  });

  it('writes the seq with markPublished when recording it failed but the message was stored', async () => {
    db.on(UpdateCommand, { TableName: 'test-Sends' }).callsFake((input: { UpdateExpression?: string }) => {
      if (input.UpdateExpression?.startsWith('SET seq')) throw new Error('throttled for good');
      return {};
    });
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ type: 'ack', seq: 42 });
    expect(published()).toHaveLength(1);
    const marks = db
      .commandCalls(UpdateCommand, { TableName: 'test-Sends' })
      .map((c) => c.args[0].input)
      .filter((i) => i.UpdateExpression?.includes('published = :true'));
    expect(marks).toHaveLength(1);
    expect(marks[0]?.ExpressionAttributeValues).toMatchObject({ ':seq': 42 });
  }, 15_000);
});
