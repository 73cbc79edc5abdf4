import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { takeSendToken, takeToken } from '#core/limits/rateLimit';
import type { Connection, ConnectionStore, SendBucket } from '#core/ports';
import { handler as sendmessage } from '#messages/sendmessage';
import { frameOf, sampleEvent } from '../helpers/events';
import { withSettings } from '../helpers/unitSettings';

const RATE = { limit: 10, windowSeconds: 10 };
const T0 = 1_795_089_600_000;

describe('the send token bucket', () => {
  it('lets a fresh connection send a burst of `limit` messages, then refuses the next', () => {
    let bucket: SendBucket | undefined;
    for (let i = 0; i < 10; i++) {
      const taken = takeToken(bucket, RATE, T0);
      if (!taken.allowed) throw new Error(`message ${i + 1} was refused`);
      bucket = taken.next;
    }
    expect(takeToken(bucket, RATE, T0)).toEqual({ allowed: false, retryAfterMs: 1000 });
  });

  it('gives back one message per window/limit seconds, never more than `limit` saved up', () => {
    const empty = { tokens: 0, at: T0 };
    expect(takeToken(empty, RATE, T0 + 999).allowed).toBe(false);
    expect(takeToken(empty, RATE, T0 + 1000).allowed).toBe(true);
    const idle = takeToken(empty, RATE, T0 + 3_600_000);
    expect(idle).toEqual({ allowed: true, next: { tokens: 9, at: T0 + 3_600_000 } });
  });

  it('ignores a clock that went backwards instead of handing out tokens', () => {
    expect(takeToken({ tokens: 0.5, at: T0 }, RATE, T0 - 60_000).allowed).toBe(false);
  });
});

describe('taking a send token for a connection', () => {
  /** A connection store whose bucket another send changes once, between our read and our write. */
  function racingStore(start: SendBucket | undefined, theirs: SendBucket) {
    const connection: Connection = {
      connectionId: 'c1',
      roomId: 'lobby',
      username: 'alice',
      connectedAt: '2026-11-21T12:00:00.000Z',
      ...(start && { sendBucket: start }),
    };
    let stored = connection.sendBucket;
    let raced = false;
    const saves: SendBucket[] = [];
    const store = {
      get: async () => ({ ...connection, sendBucket: stored }),
      saveSendBucket: async (_id: string, bucket: SendBucket, previousAt: number | undefined) => {
        if (!raced) {
          raced = true;
          stored = theirs;
          return false;
        }
        if (stored?.at !== previousAt) return false;
        stored = bucket;
        saves.push(bucket);
        return true;
      },
    } as unknown as ConnectionStore;
    return { store, connection, saves };
  }

  it('re-reads the bucket when a concurrent send wrote it first, and counts from theirs', async () => {
    const { store, connection, saves } = racingStore(undefined, { tokens: 4, at: T0 });
    await takeSendToken(store, connection, RATE, T0);
    expect(saves).toEqual([{ tokens: 3, at: T0 }]);
  });

  it('refuses when the concurrent send took the last token', async () => {
    const { store, connection } = racingStore({ tokens: 1, at: T0 }, { tokens: 0, at: T0 });
    await expect(takeSendToken(store, connection, RATE, T0)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('sendmessage with SendRateLimit=2 per 10 s', () => {
  const db = mockClient(DynamoDBDocumentClient);
  const bus = mockClient(EventBridgeClient);
  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

  function connectionWith(sendBucket?: SendBucket) {
    db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
      Item: {
        connectionId: 'Lw7Hzc2tIAMCJPQ=',
        roomId: 'K7M2QD',
        username: 'alice',
        connectedAt: '2026-11-21T12:00:00.000Z',
        ...(sendBucket && { sendBucket }),
      },
    });
  }

  beforeAll(() => {
    // The settings document each invocation below loads (tests/helpers/unitSettings.ts).
    withSettings({ SendRateLimit: 2, SendRateWindowSeconds: 10 });
  });

  afterAll(() => withSettings()); // as tests/setup/env.ts has it

  beforeEach(() => {
    db.reset();
    bus.reset();
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    db.on(PutCommand).resolves({});
    // The room's counter answers its next seq (an atomic ADD); no earlier send under the clientMsgId.
    // The previous take's seq (UPDATED_OLD): this send takes seq 8.
    db.on(UpdateCommand, { TableName: 'test-Rooms' }).resolves({ Attributes: { seq: 7 } });
    db.on(GetCommand, { TableName: 'test-Sends' }).resolves({});
    db.on(UpdateCommand, { TableName: 'test-Connections' }).resolves({});
  });

  it("sends the first message and starts the connection's bucket with a conditional write", async () => {
    connectionWith(undefined);
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ type: 'ack', seq: 8 });
    const [take] = db.commandCalls(UpdateCommand, { TableName: 'test-Connections' });
    expect(take?.args[0].input).toMatchObject({
      Key: { connectionId: 'Lw7Hzc2tIAMCJPQ=' },
      ConditionExpression: 'attribute_exists(connectionId) AND attribute_not_exists(sendBucket)',
      ExpressionAttributeValues: { ':bucket': { tokens: 1, at: expect.any(Number) } },
    });
  });

  it('answers RATE_LIMITED once the bucket is empty, storing and publishing nothing', async () => {
    connectionWith({ tokens: 0, at: Date.now() });
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toEqual({
      type: 'error',
      code: 'RATE_LIMITED',
      action: 'sendmessage',
      message: expect.stringMatching(/2 messages every 10 s\. Wait \d+ s/),
      // The error names the message it refuses, so a client with several sends in flight knows which one.
      clientMsgId: 'c0ffee-0001',
    });
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(db.commandCalls(UpdateCommand, { TableName: 'test-Rooms' })).toHaveLength(0);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('answers RATE_LIMITED when concurrent sends keep winning the bucket', async () => {
    connectionWith({ tokens: 2, at: Date.now() });
    db.on(UpdateCommand, { TableName: 'test-Connections' }).rejects(conditionFailed());
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(db.commandCalls(UpdateCommand, { TableName: 'test-Connections' })).toHaveLength(3);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
