import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { LocalCloud } from '../../tools/local/cloud';
import { ChatClient, type Frame, isPresence } from '../helpers/chatClient';
import { deployConstant } from '../helpers/deployConstant';
import { readEvent } from '../helpers/events';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The admin broadcast as an operator and the users see it: POST /broadcast on the local cloud's HTTP port (open
 * locally; IAM-signed on AWS), through the chat bus and the fan-out state machine to real WebSocket clients.
 */
jest.setTimeout(240_000);

let testCloud: TestCloud;
let cloud: LocalCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud();
  cloud = testCloud.cloud;
});

afterAll(async () => {
  await cloud?.close();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await drained();
});

/**
 * Waits until every closed client's $disconnect has removed it and no fan-out runs, so the next test's broadcast to
 * everyone meets no stale connection and closing the cloud interrupts no write.
 */
async function drained(timeoutMs = 90_000): Promise<void> {
  const table = cloud.template.tables().find((t) => t.logicalId === 'ConnectionsTable')?.TableName;
  const db = new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while ((await db.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count !== 0) {
      if (Date.now() > deadline) throw new Error('connections were not removed after their clients closed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await testCloud.settle();
  } finally {
    db.destroy();
  }
}

async function connect(username: string): Promise<ChatClient> {
  const client = await ChatClient.connect(cloud.wsUrl, username);
  open.push(client);
  return client;
}

async function post(body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/json' }) {
  const response = await fetch(`${cloud.httpUrl}/broadcast`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

const isBroadcast =
  (messageId: unknown): ((f: Frame) => boolean) =>
  (f) =>
    f.type === 'broadcast' && f.messageId === messageId;

/** alice and bob in a fresh room, carol in the lobby. */
async function roomAndLobby(tag: string) {
  const [alice, bob, carol] = await Promise.all(
    [`alice-${tag}`, `bob-${tag}`, `carol-${tag}`].map((name) => connect(name)),
  );
  if (!alice || !bob || !carol) throw new Error('three clients expected');
  const roomId = (await alice.expectReply({ action: 'createroom' })).roomId as string;
  await bob.expectReply({ action: 'joinroom', roomId });
  await Promise.all([alice, bob].map((c) => c.next(isPresence(roomId, 'join', bob.username))));
  return { alice, bob, carol, roomId };
}

it('lists the broadcast endpoint among the local cloud URLs', () => {
  expect(cloud.restEndpoints).toEqual([
    `POST ${cloud.httpUrl}/broadcast`,
    `POST ${cloud.httpUrl}/admin/broadcast`,
  ]);
});

it('reaches every connection, in rooms and in the lobby, once', async () => {
  const { alice, bob, carol } = await roomAndLobby('all');
  const res = await post({ message: 'Maintenance at 22:00 UTC' });
  expect(res.status).toBe(202);
  expect(res.json).toEqual({ messageId: expect.any(String) });
  for (const client of [alice, bob, carol]) {
    const frame = await client.next(isBroadcast(res.json.messageId), undefined, 'the broadcast');
    expect(frame).toEqual({
      type: 'broadcast',
      messageId: res.json.messageId,
      text: 'Maintenance at 22:00 UTC',
      sentAt: expect.any(String),
    });
  }
  await testCloud.settle();
  for (const client of [alice, bob, carol]) {
    expect(client.frames.filter(isBroadcast(res.json.messageId))).toHaveLength(1);
  }
});

it('reaches only the members of the room when roomId is given', async () => {
  const { alice, bob, carol, roomId } = await roomAndLobby('room');
  const res = await post({ message: 'Room closes in 5 minutes', roomId });
  expect(res.status).toBe(202);
  for (const client of [alice, bob]) {
    expect(await client.next(isBroadcast(res.json.messageId))).toMatchObject({
      roomId,
      text: 'Room closes in 5 minutes',
    });
  }
  await testCloud.settle();
  expect(carol.frames.filter((f) => f.type === 'broadcast')).toEqual([]);
});

it('answers bad input with a 4xx JSON error and broadcasts nothing', async () => {
  const carol = await connect('carol-bad');
  const before = cloud.executions().started;
  const cases: [unknown, Record<string, string> | undefined, number, string][] = [
    [{ message: 'hi' }, { 'Content-Type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['{"message":', undefined, 400, 'BAD_REQUEST'],
    [{ message: '' }, undefined, 400, 'BAD_REQUEST'],
    [{ message: 'x'.repeat(4097) }, undefined, 413, 'MESSAGE_TOO_LARGE'],
    [{ message: 'hi', roomId: 'ZZZZZZ' }, undefined, 404, 'ROOM_NOT_FOUND'],
  ];
  for (const [body, headers, status, code] of cases) {
    const res = await post(body, headers);
    expect({ status: res.status, body: res.json }).toEqual({
      status,
      body: { code, message: expect.any(String) },
    });
  }
  await testCloud.settle();
  expect(cloud.executions().started).toBe(before);
  expect(carol.frames.filter((f) => f.type === 'broadcast')).toEqual([]);
});

it('answers the CORS preflight from the template and refuses other methods as API Gateway does', async () => {
  const preflight = await fetch(`${cloud.httpUrl}/broadcast`, { method: 'OPTIONS' });
  expect(preflight.status).toBe(200);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(
    deployConstant(cloud.template, 'BroadcastAllowedOrigin'),
  );
  expect(preflight.headers.get('access-control-allow-methods')).toBe('POST,OPTIONS');
  const get = await fetch(`${cloud.httpUrl}/broadcast`);
  expect(get.status).toBe(403);
  expect(await get.json()).toEqual({ message: 'Missing Authentication Token' });
});

it('runs the sample event of events/broadcast.json to a live connection', async () => {
  const carol = await connect('carol-sample');
  const result = (await cloud.lambda.invoke('BroadcastFunction', readEvent('broadcast'))) as {
    statusCode: number;
    body: string;
  };
  expect(result.statusCode).toBe(202);
  const { messageId } = JSON.parse(result.body);
  expect(await carol.next(isBroadcast(messageId))).toMatchObject({
    text: 'Maintenance at 22:00 UTC: expect a short reconnect.',
  });
});
