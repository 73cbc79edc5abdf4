import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '#broadcast/index';
import { readEvent } from '../helpers/events';

const db = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);
const ORIGIN = 'https://admin.example.com';

/** The sample REST event with another body and/or headers. */
function request(body: unknown, headers?: Record<string, string>): APIGatewayProxyEvent {
  const event = readEvent<APIGatewayProxyEvent>('broadcast');
  return {
    ...event,
    body: typeof body === 'string' || body === null ? body : JSON.stringify(body),
    ...(headers && { headers }),
  };
}

async function call(event: APIGatewayProxyEvent) {
  const result = (await handler(event)) as APIGatewayProxyResult;
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
}

/** Every PutEvents entry published, its detail parsed and its payload frame parsed. */
function published() {
  return bus.commandCalls(PutEventsCommand).flatMap((c) =>
    (c.args[0].input.Entries ?? []).map((e) => {
      const detail = JSON.parse(e.Detail ?? '{}');
      return { detailType: e.DetailType, source: e.Source, ...detail, frame: JSON.parse(detail.payload) };
    }),
  );
}

beforeAll(() => {
  process.env.BROADCAST_ALLOWED_ORIGIN = ORIGIN;
});

beforeEach(() => {
  db.reset();
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
  db.on(GetCommand, { TableName: 'test-Rooms', Key: { roomId: 'K7M2QD' } }).resolves({
    Item: { roomId: 'K7M2QD', createdAt: '2026-11-21T12:00:00.000Z', seq: 3 },
  });
  db.on(GetCommand, { TableName: 'test-Rooms', Key: { roomId: 'ZZZZZZ' } }).resolves({});
});

describe('POST /broadcast', () => {
  it('answers the sample event 202 with a messageId and publishes one Broadcast to everyone', async () => {
    const res = await call(readEvent<APIGatewayProxyEvent>('broadcast'));
    expect(res.statusCode).toBe(202);
    expect(res.json).toEqual({ messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(res.headers?.['Access-Control-Allow-Origin']).toBe(ORIGIN);
    const events = published();
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      detailType: 'Broadcast',
      source: 'roomcast.chat',
      messageId: res.json.messageId,
    });
    expect(event).not.toHaveProperty('roomId');
    expect(event?.frame).toEqual({
      type: 'broadcast',
      messageId: res.json.messageId,
      text: 'Maintenance at 22:00 UTC: expect a short reconnect.',
      sentAt: expect.any(String),
    });
  });

  it('sends to one existing room when roomId is given', async () => {
    const res = await call(request({ message: 'room only', roomId: 'k7m2qd' }));
    expect(res.statusCode).toBe(202);
    const [event] = published();
    expect(event).toMatchObject({
      roomId: 'K7M2QD',
      frame: { type: 'broadcast', roomId: 'K7M2QD', text: 'room only' },
    });
  });

  it('sends to the lobby without looking it up (it has no Rooms row until its first message)', async () => {
    const res = await call(request({ message: 'lobby only', roomId: 'lobby' }));
    expect(res.statusCode).toBe(202);
    expect(db.commandCalls(GetCommand)).toHaveLength(0);
    expect(published()[0]).toMatchObject({ roomId: 'lobby' });
  });

  it('accepts a charset in the content type and a base64-encoded body', async () => {
    const event = request(Buffer.from(JSON.stringify({ message: 'encoded' })).toString('base64'), {
      'content-type': 'application/json; charset=utf-8',
    });
    const res = await call({ ...event, isBase64Encoded: true });
    expect(res.statusCode).toBe(202);
    expect(published()[0]?.frame.text).toBe('encoded');
  });

  it.each([
    ['no content type', { message: 'hi' }, {}, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a text/plain body', { message: 'hi' }, { 'Content-Type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an empty body', null, undefined, 400, 'BAD_REQUEST'],
    ['bad JSON', '{"message": "hi"', undefined, 400, 'BAD_REQUEST'],
    ['a JSON array', [{ message: 'hi' }], undefined, 400, 'BAD_REQUEST'],
    ['no message', { roomId: 'K7M2QD' }, undefined, 400, 'BAD_REQUEST'],
    ['an empty message', { message: '   ' }, undefined, 400, 'BAD_REQUEST'],
    ['a message that is not a string', { message: 42 }, undefined, 400, 'BAD_REQUEST'],
    ['a message over 4 KB', { message: 'é'.repeat(2049) }, undefined, 413, 'MESSAGE_TOO_LARGE'],
    ['a malformed room code', { message: 'hi', roomId: 'room-1' }, undefined, 400, 'BAD_REQUEST'],
    ['an unknown room', { message: 'hi', roomId: 'ZZZZZZ' }, undefined, 404, 'ROOM_NOT_FOUND'],
  ])('refuses %s with a JSON error and publishes nothing', async (_why, body, headers, status, code) => {
    const res = await call(request(body, headers));
    expect(res.statusCode).toBe(status);
    expect(res.json).toEqual({ code, message: expect.any(String) });
    expect(res.headers?.['Content-Type']).toMatch(/^application\/json/);
    expect(res.headers?.['Access-Control-Allow-Origin']).toBe(ORIGIN);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('takes exactly 4,096 bytes of text', async () => {
    const res = await call(request({ message: 'x'.repeat(4096) }));
    expect(res.statusCode).toBe(202);
  });

  it('answers 503 without a stack trace when the bus refuses the event', async () => {
    bus.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const res = await call(request({ message: 'hi' }));
    expect(res.statusCode).toBe(503);
    expect(res.json).toEqual({ code: 'INTERNAL', message: expect.not.stringMatching(/at |Error/) });
  });
});

describe('the session broadcast marker', () => {
  afterEach(() => {
    delete process.env.SESSIONS_TABLE;
  });

  it("records the broadcast's own send time, not when the publish call returned", async () => {
    process.env.SESSIONS_TABLE = 'test-Sessions';
    db.on(PutCommand).resolves({});
    // A member can receive the broadcast and disconnect while PutEvents is still returning: the marker must not
    // be later than the frame the member saw, or that member's session would show it seen after the disconnect.
    bus.on(PutEventsCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] };
    });
    const res = await call(request({ message: 'room only', roomId: 'K7M2QD' }));
    expect(res.statusCode).toBe(202);
    const [event] = published();
    const markers = db
      .commandCalls(PutCommand, { TableName: 'test-Sessions' })
      .map((c) => c.args[0].input.Item);
    expect(markers).toEqual([{ connectionId: '#broadcast#K7M2QD', at: event?.frame.sentAt }]);
  });

  it('is stored before the event goes out, so a member who disconnects on receipt finds it', async () => {
    process.env.SESSIONS_TABLE = 'test-Sessions';
    db.on(PutCommand).resolves({});
    let markersWhenPublished = -1;
    bus.on(PutEventsCommand).callsFake(async () => {
      markersWhenPublished = db.commandCalls(PutCommand, { TableName: 'test-Sessions' }).length;
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] };
    });
    const res = await call(request({ message: 'everyone' }));
    expect(res.statusCode).toBe(202);
    expect(markersWhenPublished).toBe(1);
  });
});
