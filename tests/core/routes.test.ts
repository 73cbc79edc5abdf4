import { ApiGatewayManagementApiClient, GetConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
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
import { handler as connect } from '#connection/connect';
import { handler as defaultRoute } from '#connection/default';
import { handler as disconnect } from '#connection/disconnect';
import { handler as deliver } from '#deliver/index';
import type { PostInput } from '#deliver/post';
import { handler as history } from '#messages/history';
import { handler as sendmessage } from '#messages/sendmessage';
import { handler as createroom } from '#rooms/createroom';
import { handler as joinroom } from '#rooms/joinroom';
import { handler as leaveroom } from '#rooms/leaveroom';
import { handler as who } from '#rooms/who';
import { handler as typing } from '#typing/index';
import { frameOf, readEvent, sampleEvent } from '../helpers/events';
import { FakeManagementApi } from '../helpers/fakeManagementApi';

const db = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);
const api = mockClient(ApiGatewayManagementApiClient);

/**
 * Deliver posts with a signed HTTP POST to the stage's callback URL, so a local stand-in answers for the stage. It
 * is set before any handler runs: the runtime builds its notifier once, on first use.
 */
const stage = new FakeManagementApi();
beforeAll(async () => {
  process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = await stage.start();
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI;
  await stage.stop();
});

const ME = 'Lw7Hzc2tIAMCJPQ=';
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function inRoom(roomId: string, username = 'alice') {
  db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
    Item: { connectionId: ME, roomId, username, connectedAt: '2026-11-21T12:00:00.000Z' },
  });
}

/** Every PutEvents entry published during the test, with its detail parsed. */
function published() {
  return bus.commandCalls(PutEventsCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((e) => ({
      type: e.DetailType,
      ...JSON.parse(e.Detail ?? '{}'),
    })),
  );
}

const writes = () => [...db.commandCalls(PutCommand), ...db.commandCalls(UpdateCommand)];

/** The presence changes written to rooms' presence boards (`presence#<roomId>`), as [roomId, event, username]. */
function boardChanges(): [string, string, string][] {
  return db.commandCalls(UpdateCommand).flatMap((call) => {
    const { Key, ExpressionAttributeValues } = call.args[0].input;
    const key = String(Key?.limitKey ?? '');
    if (!key.startsWith('presence#')) return [];
    const [change] = (ExpressionAttributeValues?.[':change'] ?? []) as { e: string; u: string }[];
    return change ? [[key.slice('presence#'.length), change.e, change.u] as [string, string, string]] : [];
  });
}

beforeEach(() => {
  db.reset();
  bus.reset();
  api.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
});

/**
 * The room index answers its members under one of the room's ten keys (`K7M2QD#0`) and nothing under the others, as
 * a room whose connections all hash to shard 0: readers Query every shard, so one canned answer for all ten would
 * count each member ten times.
 */
function roomIndexShard0(client: typeof db) {
  client.on(QueryCommand, { TableName: 'test-Subscriptions' }).resolves({ Items: [], Count: 0 });
  return client.on(QueryCommand, {
    TableName: 'test-Subscriptions',
    ExpressionAttributeValues: { ':key': 'K7M2QD#0' },
  });
}

describe('$connect', () => {
  it('registers alice in the lobby from the sample event', async () => {
    db.on(PutCommand).resolves({});
    const result = await connect(sampleEvent('connect'));
    expect(result).toEqual({ statusCode: 200 });
    const item = db.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({ connectionId: ME, roomId: 'lobby', username: 'alice' });
    expect(item?.ttl).toBeGreaterThan(Date.now() / 1000 + 2 * 3600);
  });

  it('names a connection without a username guest-NNNN', async () => {
    db.on(PutCommand).resolves({});
    const event = { ...sampleEvent('connect'), queryStringParameters: undefined };
    await connect(event);
    expect(db.commandCalls(PutCommand)[0]?.args[0].input.Item?.username).toMatch(/^guest-\d{4}$/);
  });

  it.each([
    ['too long', 'x'.repeat(33)],
    ['a control character', 'bob\u0007'],
    ['only spaces', '   '],
  ])('refuses a username that is %s with 400 and stores nothing', async (_why, username) => {
    const event = { ...sampleEvent('connect'), queryStringParameters: { username } };
    const result = (await connect(event)) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(400);
    expect(result.body).toMatch(/username/);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('sendmessage', () => {
  beforeEach(() => {
    inRoom('K7M2QD');
    db.on(UpdateCommand).resolves({});
    db.on(PutCommand).resolves({});
    // The room's counter answers its next seq (an atomic ADD); no earlier send under the clientMsgId.
    // The seq take answers the previous take's values (UPDATED_OLD): seq 41 taken before, so this one is 42.
    db.on(UpdateCommand, { TableName: 'test-Rooms' }).resolves({ Attributes: { seq: 41 } });
    db.on(GetCommand, { TableName: 'test-Sends' }).resolves({});
  });

  it('acks the sample message with the room seq and publishes it to the room', async () => {
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'c0ffee-0001', roomId: 'K7M2QD', seq: 42 });
    const [event] = published();
    expect(event).toMatchObject({ type: 'MessageSent', roomId: 'K7M2QD', messageId: ack.messageId });
    expect(JSON.parse(event.payload)).toMatchObject({
      type: 'message',
      seq: 42,
      username: 'alice',
      text: 'hello, everyone!',
    });
  });

  it('returns the first ack to a retry with the same clientMsgId and publishes the stored message again', async () => {
    // The clientMsgId's record of the first attempt, which stored seq 7 (and may or may not have published it).
    db.on(GetCommand, { TableName: 'test-Sends' }).resolves({
      Item: {
        sendKey: 'K7M2QD#alice#c0ffee-0001',
        messageId: 'first-id',
        seq: 7,
        sentAt: 'x',
        attempt: 'first-attempt',
      },
    });
    db.on(GetCommand, { TableName: 'test-Messages' }).resolves({
      Item: {
        roomId: 'K7M2QD',
        seq: 7,
        messageId: 'first-id',
        username: 'alice',
        text: 'hello, everyone!',
        sentAt: 'x',
      },
    });
    const ack = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(ack).toMatchObject({ messageId: 'first-id', seq: 7 });
    // The stored message as it is, not the retry's: the same event the first attempt would have published.
    // And a wake naming seq 7: the fan-out posts it from the room's log if no wake before did.
    expect(published()).toEqual([
      expect.objectContaining({ messageId: 'first-id', seq: 7 }),
      { type: 'RoomWake', messageId: 'first-id', roomId: 'K7M2QD', seq: 7 },
    ]);
    expect(JSON.parse(published()[0].payload)).toMatchObject({ seq: 7, text: 'hello, everyone!' });
    // No second seq taken: the retry stores nothing.
    expect(db.commandCalls(UpdateCommand, { TableName: 'test-Rooms' })).toHaveLength(0);
  });

  it('accepts exactly 4,096 bytes of text', async () => {
    const frame = frameOf(
      await sendmessage(sampleEvent('sendmessage', { body: { message: 'é'.repeat(2048) } })),
    );
    expect(frame.type).toBe('ack');
  });

  it('answers INTERNAL without details, naming the clientMsgId, when DynamoDB fails', async () => {
    db.on(UpdateCommand, { TableName: 'test-Rooms' }).rejects(new Error('connect ECONNREFUSED 10.0.0.1:443'));
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'INTERNAL', clientMsgId: 'c0ffee-0001' });
    expect(JSON.stringify(frame)).not.toMatch(/ECONNREFUSED/);
    expect(published()).toHaveLength(0);
  });

  it('asks a connection that is no longer registered to reconnect', async () => {
    db.on(GetCommand, { TableName: 'test-Connections' }).resolves({});
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage')));
    expect(frame).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(String(frame.message)).toMatch(/[Rr]econnect/);
  });

  it.each([
    ['not JSON', 'hello there', 'BAD_REQUEST'],
    ['an empty message', { action: 'sendmessage', message: '   ' }, 'BAD_REQUEST'],
    ['a missing message', { action: 'sendmessage' }, 'BAD_REQUEST'],
    ['a number as message', { action: 'sendmessage', message: 5 }, 'BAD_REQUEST'],
    ['a JSON array', [1, 2], 'BAD_REQUEST'],
    ['4,097 bytes', { action: 'sendmessage', message: `${'é'.repeat(2048)}x` }, 'MESSAGE_TOO_LARGE'],
    ['a bad clientMsgId', { action: 'sendmessage', message: 'hi', clientMsgId: '<script>' }, 'BAD_REQUEST'],
  ])('answers %s with an error frame and writes nothing', async (_why, body, code) => {
    const frame = frameOf(await sendmessage(sampleEvent('sendmessage', { body })));
    expect(frame).toMatchObject({ type: 'error', code, action: 'sendmessage' });
    expect(String(frame.message)).not.toMatch(/\bat \w+ \(/); // no stack trace
    expect(writes()).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });
});

describe('rooms', () => {
  it('createroom moves the caller into a new room with an unambiguous 8-character code', async () => {
    db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
      Item: { connectionId: ME, roomId: 'lobby', username: 'alice' },
    });
    db.on(PutCommand, { TableName: 'test-Rooms' }).rejectsOnce(conditionFailed()).resolves({});
    db.on(UpdateCommand).resolves({ Attributes: { connectionId: ME, roomId: 'lobby', username: 'alice' } });
    const frame = frameOf(await createroom(sampleEvent('createroom')));
    expect(frame).toMatchObject({ type: 'joined', members: ['alice'], history: [], lastSeq: 0 });
    expect(frame.roomId).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    // The first code collided: a second one was tried.
    expect(db.commandCalls(PutCommand, { TableName: 'test-Rooms' })).toHaveLength(2);
    // The join goes on the new room's presence board, and the board's opening wakes the room's fan-out.
    expect(boardChanges()).toEqual([[frame.roomId, 'join', 'alice']]);
    expect(published()).toEqual([
      { type: 'Presence', messageId: expect.any(String), roomId: frame.roomId, board: true },
    ]);
  });

  it('joinroom answers ROOM_NOT_FOUND for a well-formed code with no room, and moves nobody', async () => {
    db.on(GetCommand, { TableName: 'test-Rooms' }).resolves({});
    const frame = frameOf(await joinroom(sampleEvent('joinroom')));
    expect(frame).toMatchObject({ type: 'error', code: 'ROOM_NOT_FOUND', action: 'joinroom' });
    expect(db.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it.each([
    ['too short', 'ABC'],
    ['with an O', 'ABCDEO'],
    ['a number', 123456],
    ['missing', undefined],
  ])('joinroom answers BAD_REQUEST for a room code that is %s', async (_why, roomId) => {
    const frame = frameOf(await joinroom(sampleEvent('joinroom', { body: { action: 'joinroom', roomId } })));
    expect(frame).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  });

  it('joinroom reads lastSeq after the move, so a message stored while it ran is owed to the joiner', async () => {
    // Seq 4 was stored after the join first read the room but before the joiner was in the room index: its fan-out
    // may not have found the joiner, so `lastSeq` must name it and the client fetches it from history.
    db.on(GetCommand, { TableName: 'test-Rooms' })
      .resolvesOnce({ Item: { roomId: 'K7M2QD', seq: 3 } })
      .resolves({ Item: { roomId: 'K7M2QD', seq: 4 } });
    db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
      Item: { connectionId: ME, roomId: 'lobby', username: 'alice' },
    });
    db.on(UpdateCommand).resolves({ Attributes: { connectionId: ME, roomId: 'lobby', username: 'alice' } });
    db.on(QueryCommand).resolves({ Items: [], Count: 0 });
    const frame = frameOf(
      await joinroom(sampleEvent('joinroom', { body: { action: 'joinroom', roomId: 'K7M2QD' } })),
    );
    expect(frame).toMatchObject({ type: 'joined', roomId: 'K7M2QD', lastSeq: 4 });
    const order = db
      .calls()
      .map((c) => c.args[0] as { constructor: { name: string }; input: { TableName?: string } })
      .map((command) => `${command.constructor.name} ${command.input.TableName}`);
    expect(order.lastIndexOf('GetCommand test-Rooms')).toBeGreaterThan(
      order.indexOf('UpdateCommand test-Connections'),
    );
  });

  it('joinroom returns members, history in seq order and lastSeq, and tells the room joined (the room shown before stays followed)', async () => {
    db.on(GetCommand, { TableName: 'test-Rooms' }).resolves({ Item: { roomId: 'K7M2QD', seq: 3 } });
    db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
      Item: { connectionId: ME, roomId: 'ABCDEF', username: 'alice' },
    });
    db.on(UpdateCommand).resolves({ Attributes: { connectionId: ME, roomId: 'ABCDEF', username: 'alice' } });
    roomIndexShard0(db).resolves({
      Items: [{ connectionId: 'other', username: 'bob' }],
      Count: 1,
    });
    db.on(QueryCommand, { TableName: 'test-Messages' }).resolves({
      Items: [3, 2, 1].map((seq) => ({
        roomId: 'K7M2QD',
        seq,
        messageId: `m${seq}`,
        username: 'bob',
        text: `#${seq}`,
        sentAt: 'x',
        ttl: 1,
      })),
    });
    const frame = frameOf(
      await joinroom(sampleEvent('joinroom', { body: { action: 'joinroom', roomId: 'k7m2qd' } })),
    );
    expect(frame).toMatchObject({ type: 'joined', roomId: 'K7M2QD', lastSeq: 3, memberCount: 2 });
    expect(frame.members).toEqual(['alice', 'bob']);
    expect((frame.history as { seq: number }[]).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(JSON.stringify(frame.history)).not.toMatch(/ttl/);
    expect(boardChanges()).toEqual([['K7M2QD', 'join', 'alice']]);
    expect(published()).toEqual([
      expect.objectContaining({ type: 'Presence', roomId: 'K7M2QD', board: true }),
    ]);
  });

  it('leaveroom puts the caller back in the lobby and tells the room it left', async () => {
    db.on(UpdateCommand).resolves({ Attributes: { connectionId: ME, roomId: 'K7M2QD', username: 'alice' } });
    const frame = frameOf(await leaveroom(sampleEvent('leaveroom')));
    expect(frame).toEqual({ type: 'left', roomId: 'K7M2QD' });
    expect(db.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':room']).toBe(
      'lobby',
    );
    expect(boardChanges()).toEqual([['K7M2QD', 'leave', 'alice']]);
    expect(published()).toEqual([
      expect.objectContaining({ type: 'Presence', roomId: 'K7M2QD', board: true }),
    ]);
  });
});

describe('history and who', () => {
  beforeEach(() => inRoom('K7M2QD'));

  it('history returns what came after afterSeq, in order', async () => {
    db.on(QueryCommand, { TableName: 'test-Messages' }).resolves({
      Items: [{ roomId: 'K7M2QD', seq: 1, messageId: 'm1', username: 'bob', text: 'hi', sentAt: 'x' }],
    });
    const frame = frameOf(await history(sampleEvent('history')));
    expect(frame).toMatchObject({
      type: 'history',
      roomId: 'K7M2QD',
      messages: [{ type: 'message', seq: 1, text: 'hi' }],
      hasMore: false,
    });
    // One more than the 20 asked: whether the room goes on after the page.
    expect(db.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      Limit: 21,
      ExpressionAttributeValues: { ':after': 0 },
    });
  });

  it.each([
    ['limit 101', { limit: 101 }],
    ['limit 0', { limit: 0 }],
    ['a negative afterSeq', { afterSeq: -1 }],
    ['a fractional afterSeq', { afterSeq: 1.5 }],
    ['a string limit', { limit: '10' }],
  ])('history answers BAD_REQUEST for %s', async (_why, fields) => {
    const frame = frameOf(await history(sampleEvent('history', { body: { action: 'history', ...fields } })));
    expect(frame).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'history' });
  });

  it('who lists the usernames in the room', async () => {
    db.on(GetCommand, { TableName: 'test-Rooms' }).resolves({ Item: { roomId: 'K7M2QD' } });
    roomIndexShard0(db).resolves({
      Items: [
        { connectionId: ME, username: 'alice' },
        { connectionId: 'b', username: 'bob' },
      ],
      Count: 2,
    });
    const frame = frameOf(await who(sampleEvent('who')));
    expect(frame).toEqual({ type: 'members', roomId: 'K7M2QD', members: ['alice', 'bob'], memberCount: 2 });
  });

  it('who counts the caller once in a room larger than the names it lists', async () => {
    db.on(GetCommand, { TableName: 'test-Rooms' }).resolves({ Item: { roomId: 'K7M2QD' } });
    const others = Array.from({ length: 249 }, (_, i) => ({ connectionId: `c${i}`, username: `user${i}` }));
    roomIndexShard0(db).resolves({
      Items: [...others.slice(0, 240), { connectionId: ME, username: 'alice' }, ...others.slice(240)],
      Count: 250,
    });
    const frame = frameOf(await who(sampleEvent('who')));
    expect(frame.memberCount).toBe(250);
    expect(frame.members).toContain('alice');
  });
});

describe('typing', () => {
  afterEach(() => stage.received.clear());
  // The typist's connection, and its room's item, whose key level says which keys of the room index hold members.
  const typingAs = (marks: Record<string, number>) => {
    db.on(GetCommand, { TableName: 'test-Rooms' }).resolves({ Item: { roomId: 'K7M2QD' } });
    return db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
      Item: { connectionId: ME, roomId: 'K7M2QD', username: 'alice', connectedAt: 'x', ...marks },
    });
  };

  it('relays a heartbeat to the other members only, publishing nothing', async () => {
    typingAs({});
    db.on(UpdateCommand).resolves({});
    roomIndexShard0(db).resolves({
      Items: [
        { connectionId: ME, username: 'alice' },
        { connectionId: 'typing-bob', username: 'bob' },
      ],
    });
    await typing(sampleEvent('typing'));
    expect(stage.received.get('typing-bob')?.map((p) => JSON.parse(p))).toEqual([
      {
        type: 'typing',
        roomId: 'K7M2QD',
        username: 'alice',
        // Her key in the room, as her messages carry it: a member who blocked her hides her typing by it.
        authorKey: expect.any(String),
        typing: true,
        expiresInMs: 7000,
        at: expect.any(Number),
      },
    ]);
    expect(stage.received.get(ME)).toBeUndefined();
    expect(published()).toHaveLength(0);
  });

  it("drops a heartbeat when the account's posting budget has no posts to spare this second", async () => {
    typingAs({});
    db.on(UpdateCommand).resolves({});
    // Every shard of this second's budget is full: the conditional reservation is refused.
    db.on(UpdateCommand, { TableName: 'test-Limits' }).rejects(conditionFailed());
    db.on(QueryCommand).resolves({
      Items: [
        { connectionId: ME, username: 'alice' },
        { connectionId: 'typing-dan', username: 'dan' },
      ],
    });
    await typing(sampleEvent('typing'));
    expect(stage.received.get('typing-dan')).toBeUndefined();
    const [reservation] = db.commandCalls(UpdateCommand, { TableName: 'test-Limits' });
    expect(String(reservation?.args[0].input.Key?.limitKey)).toMatch(/^post-budget#\d+#\d+$/);
  });

  it('drops a heartbeat within the interval without a write or a read of the room', async () => {
    typingAs({ typingAt: Date.now() - 1000 });
    await typing(sampleEvent('typing'));
    expect(writes()).toHaveLength(0);
    expect(db.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('posts a BAD_REQUEST error frame to the typist for a typing that is not a boolean', async () => {
    const typist = 'typing-carol';
    await typing(sampleEvent('typing', { body: { action: 'typing', typing: 'yes' }, connectionId: typist }));
    const [frame] = (stage.received.get(typist) ?? []).map((p) => JSON.parse(p));
    expect(frame).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'typing' });
    expect(writes()).toHaveLength(0);
  });
});

describe('$default and $disconnect', () => {
  it('$default answers with the connection info and a usage line', async () => {
    inRoom('lobby');
    api.on(GetConnectionCommand).resolves({
      ConnectedAt: new Date('2026-11-21T12:00:00Z'),
      LastActiveAt: new Date('2026-11-21T12:01:00Z'),
      Identity: { SourceIp: '203.0.113.7', UserAgent: 'wscat/6.0' },
    });
    const frame = frameOf(await defaultRoute(sampleEvent('default')));
    expect(frame).toMatchObject({
      type: 'info',
      connectionId: ME,
      sourceIp: '203.0.113.7',
      userAgent: 'wscat/6.0',
      connectedAt: '2026-11-21T12:00:00.000Z',
      lastActiveAt: '2026-11-21T12:01:00.000Z',
    });
    expect(frame.usage).toMatch(/sendmessage/);
  });

  it('$disconnect removes the connection and its subscriptions, and hands its room to the departure', async () => {
    db.on(GetCommand, { Key: { connectionId: ME } }).resolves({
      Item: { connectionId: ME, roomId: 'K7M2QD', username: 'alice' },
    });
    db.on(DeleteCommand).resolves({ Attributes: { connectionId: ME, roomId: 'K7M2QD', username: 'alice' } });
    db.on(QueryCommand, { TableName: 'test-Subscriptions' }).resolves({ Items: [{ roomId: 'K7M2QD' }] });
    await disconnect(sampleEvent('disconnect'));
    expect(db.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key)).toEqual(
      expect.arrayContaining([{ connectionId: ME }, { connectionId: ME, roomId: 'K7M2QD' }]),
    );
    // One Departed event names the rooms; the departure machine tells them after its pause (departure.ts).
    expect(published()).toEqual([
      expect.objectContaining({ type: 'Departed', rooms: [expect.objectContaining({ roomId: 'K7M2QD' })] }),
    ]);
  });

  it('$disconnect from the lobby publishes nothing', async () => {
    db.on(GetCommand, { Key: { connectionId: ME } }).resolves({
      Item: { connectionId: ME, roomId: 'lobby', username: 'alice' },
    });
    db.on(DeleteCommand).resolves({ Attributes: { connectionId: ME, roomId: 'lobby', username: 'alice' } });
    db.on(QueryCommand, { TableName: 'test-Subscriptions' }).resolves({ Items: [{ roomId: 'lobby' }] });
    await disconnect(sampleEvent('disconnect'));
    expect(published()).toHaveLength(0);
  });
});

describe('deliver', () => {
  /** The sample chunk (a broadcast to everyone): this test is about the posts' answers. */
  const sample = () => readEvent<PostInput>('deliver');

  it('reports the connections that answered 410 Gone and hands back those to post again, by error name and status', async () => {
    const input = sample();
    const ids = [...(input.connectionIds ?? []), 'throttled', 'server-error'];
    stage.gone.add(ids[1] as string);
    stage.throttle.set('throttled', 1);
    stage.failWith.set('server-error', [500, 'InternalServerErrorException']);
    const report = await deliver({ ...input, connectionIds: ids });
    expect(report).toEqual({
      retry: { throttled: 0, 'server-error': 0 },
      retrying: true,
      waitSeconds: 2,
      goneIds: [ids[1]],
    });
    expect([...stage.received.keys()]).toEqual([ids[0]]);
    expect(stage.received.get(ids[0] as string)).toEqual([input.frames[0]?.payload]);
  });

  it('posts again only the frames a member still lacks, and gives up after that second attempt', async () => {
    const input = sample();
    stage.throttle.set('again', 1);
    const report = await deliver({
      ...input,
      connectionIds: undefined,
      retry: { again: 0 },
      goneIds: ['old'],
    });
    expect(report).toEqual({ retrying: false, waitSeconds: 2, goneIds: ['old'] });
    expect(stage.received.has('again')).toBe(false);
  });

  it('rejects a malformed step instead of posting anything', async () => {
    const before = stage.posts;
    await expect(deliver({ payload: 'x' } as never)).rejects.toThrow(
      'Deliver expects a fan-out step { op: "prepare" | "room" | "post" | "index" | "broadcast" | "leave" | "settle" }, not undefined',
    );
    // An op that is a property of every object is not a step either.
    await expect(deliver({ op: 'toString' } as never)).rejects.toThrow('not "toString"');
    await expect(deliver({ ...sample(), frames: undefined } as never)).rejects.toThrow(/frames/);
    expect(stage.posts).toBe(before);
  });
});
