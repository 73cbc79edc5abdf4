import { readdirSync } from 'node:fs';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { loadTemplate } from '../../infra/template';
import type { LocalCloud } from '../../local/cloud';
import { ChatClient, type Frame, HandshakeRefused, isMessage, isPresence } from '../helpers/chatClient';
import { eventsDir, frameOf, readEvent, sampleEvent } from '../helpers/events';
import { declaredParameters, startTestCloud, type TestCloud, templatePath } from '../helpers/localCloud';

/**
 * The chat as a user sees it: real WebSocket clients talking to the local cloud, which runs template.yaml with the
 * built handlers, dynalite, the local EventBridge and the fan-out state machine. One cloud for the file; every test
 * uses its own rooms and usernames and closes its clients.
 */
jest.setTimeout(30_000);

const ROOM_CODE = /^[A-HJ-NP-Z2-9]{8}$/;
const CONNECTION_ID = /^[A-Za-z0-9_-]{15}=$/;

let testCloud: TestCloud;
let cloud: LocalCloud;
let db: DynamoDBClient;
let connectionsTable: string;
const open: ChatClient[] = [];

beforeAll(async () => {
  // These tests send bursts from one connection, and one connection sends every kind of bad input in turn; the
  // per-connection limits have tests of their own (tests/security: every sendmessage counts against
  // FrameRateLimit, and every malformed frame is a strike towards StrikeLimit).
  testCloud = await startTestCloud({
    parameters: declaredParameters({
      SendRateLimit: '1000',
      FrameRateLimit: '100000',
      StrikeLimit: '100000',
    }),
  });
  cloud = testCloud.cloud;
  db = new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const table = cloud.template.tables().find((t) => t.logicalId === 'ConnectionsTable');
  if (!table?.TableName) throw new Error('template.yaml has no ConnectionsTable');
  connectionsTable = table.TableName;
});

afterAll(async () => {
  db?.destroy();
  await cloud?.close();
});

afterEach(async () => {
  cloud.gateway.setFaults({ faultSkipDisconnect: 0 });
  cloud.eventBridge.setFaultPutEvents(0);
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function connect(username?: string): Promise<ChatClient> {
  const client = await ChatClient.connect(cloud.wsUrl, username);
  open.push(client);
  return client;
}

async function createRoom(owner: ChatClient): Promise<string> {
  const joined = await owner.expectReply({ action: 'createroom' });
  return joined.roomId as string;
}

/** Joins and waits until the room, the joiner included, has seen the join, so later assertions start clean. */
async function joinRoom(client: ChatClient, roomId: string, members: ChatClient[] = []): Promise<Frame> {
  const joined = await client.expectReply({ action: 'joinroom', roomId });
  await Promise.all([...members, client].map((m) => m.next(isPresence(roomId, 'join', client.username))));
  return joined;
}

/** A room with these clients in it, the first one its creator. */
async function roomOf(...clients: ChatClient[]): Promise<string> {
  const [owner, ...others] = clients;
  if (!owner) throw new Error('roomOf needs at least one client');
  const roomId = await createRoom(owner);
  for (let i = 0; i < others.length; i++) {
    await joinRoom(others[i] as ChatClient, roomId, clients.slice(0, i + 1));
  }
  return roomId;
}

async function say(client: ChatClient, message: string, clientMsgId?: string): Promise<Frame> {
  return client.expectReply({ action: 'sendmessage', message, ...(clientMsgId ? { clientMsgId } : {}) });
}

async function membersSeenBy(client: ChatClient): Promise<string[]> {
  const reply = await client.expectReply({ action: 'who' });
  return [...(reply.members as string[])].sort();
}

async function connectionItem(connectionId: string) {
  const { Item } = await db.send(
    new GetItemCommand({
      TableName: connectionsTable,
      Key: { connectionId: { S: connectionId } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('lobby chat, as in the AWS tutorial', () => {
  it('a plain sendmessage reaches both lobby clients and the sender gets an ack with its seq', async () => {
    const alice = await connect('alice-lobby');
    const bob = await connect('bob-lobby');
    alice.send('{"action":"sendmessage","message":"hello, everyone!"}');

    const ack = await alice.next((f) => f.type === 'ack');
    expect(ack).toMatchObject({ roomId: 'lobby', messageId: expect.any(String) });
    expect(Number.isInteger(ack.seq) && (ack.seq as number) > 0).toBe(true);
    for (const client of [alice, bob]) {
      const message = await client.next(isMessage('lobby', 'hello, everyone!'));
      expect(message).toMatchObject({ seq: ack.seq, messageId: ack.messageId, username: 'alice-lobby' });
      expect(Number.isNaN(Date.parse(message.sentAt as string))).toBe(false);
    }
  });

  it('a connection without a username is a guest and can chat at once', async () => {
    const guest = await connect();
    const info = await guest.expectReply({ action: 'help' });
    const ack = await say(guest, 'hi from a guest');
    const message = await guest.next(isMessage('lobby', 'hi from a guest'));
    expect(message.seq).toBe(ack.seq);
    expect(message.username).toMatch(/^guest-\d{4}$/);
    expect(info.connectionId).toMatch(CONNECTION_ID);
  });
});

describe('rooms', () => {
  it('createroom gives a fresh 8-character code without ambiguous characters, with the creator as member', async () => {
    const alice = await connect('alice-create');
    const joined = await alice.expectReply({ action: 'createroom' });
    expect(joined).toMatchObject({ type: 'joined', members: ['alice-create'], history: [], lastSeq: 0 });
    expect(joined.roomId).toMatch(ROOM_CODE);
    const again = await alice.expectReply({ action: 'createroom' });
    expect(again.roomId).toMatch(ROOM_CODE);
    expect(again.roomId).not.toBe(joined.roomId);
  });

  it('joinroom puts the joiner in the room: both are members and the room hears the join', async () => {
    const alice = await connect('alice-join');
    const bob = await connect('bob-join');
    const roomId = await createRoom(alice);

    // Typed in lower case, as people do: the code is case-insensitive.
    const joined = await bob.expectReply({ action: 'joinroom', roomId: roomId.toLowerCase() });
    expect(joined.roomId).toBe(roomId);
    expect([...(joined.members as string[])].sort()).toEqual(['alice-join', 'bob-join']);
    await alice.next(isPresence(roomId, 'join', 'bob-join'));
    expect(await membersSeenBy(alice)).toEqual(['alice-join', 'bob-join']);
    const who = await bob.expectReply({ action: 'who' });
    expect(who.roomId).toBe(roomId);
  });

  it('leaveroom answers left, tells the room, and later room messages no longer reach the leaver', async () => {
    const alice = await connect('alice-leave');
    const bob = await connect('bob-leave');
    const carol = await connect('carol-leave');
    const roomId = await roomOf(alice, bob);

    const left = await bob.expectReply({ action: 'leaveroom' });
    expect(left).toMatchObject({ type: 'left', roomId });
    await alice.next(isPresence(roomId, 'leave', 'bob-leave'));
    expect(await membersSeenBy(alice)).toEqual(['alice-leave']);
    expect((await bob.expectReply({ action: 'who' })).roomId).toBe('lobby');

    const mark = bob.mark();
    await say(alice, 'bob is gone');
    await alice.next(isMessage(roomId, 'bob is gone'));
    // Back in the lobby: bob hears the lobby again.
    await say(carol, 'welcome back to the lobby');
    await bob.next(isMessage('lobby', 'welcome back to the lobby'));
    await testCloud.settle();
    expect(bob.since(mark).filter((f) => f.roomId === roomId)).toEqual([]);
  });

  it("a room's messages reach its members only, never a lobby client", async () => {
    const alice = await connect('alice-private');
    const bob = await connect('bob-private');
    const carol = await connect('carol-private');
    const roomId = await roomOf(alice, bob);
    const carolMark = carol.mark();

    const ack = await say(alice, 'just between us');
    expect(ack.roomId).toBe(roomId);
    expect((await bob.next(isMessage(roomId, 'just between us'))).seq).toBe(ack.seq);
    await alice.next(isMessage(roomId, 'just between us'));
    await testCloud.settle();
    expect(carol.since(carolMark)).toEqual([]);
  });
});

describe('names in a room', () => {
  it('shows a second "alice" and a Cyrillic "аlice" numbered, everywhere the room sees them, and lists all three', async () => {
    const alice = await connect('alice');
    const alice2 = await connect('alice');
    const cyrillic = await connect('аlice'); // Cyrillic а
    const roomId = await createRoom(alice);

    const second = await alice2.expectReply({ action: 'joinroom', roomId });
    expect([...(second.members as string[])].sort()).toEqual(['alice', 'alice (2)']);
    expect(second.memberCount).toBe(2);
    await alice.next(isPresence(roomId, 'join', 'alice (2)'));
    const third = await cyrillic.expectReply({ action: 'joinroom', roomId });
    expect(third.members).toContain('аlice (3)');
    await alice.next(isPresence(roomId, 'join', 'аlice (3)'));

    // The list never folds two members into one name.
    const who = await alice.expectReply({ action: 'who' });
    expect(who.memberCount).toBe(3);
    expect([...(who.members as string[])].sort()).toEqual(['alice', 'alice (2)', 'аlice (3)']);

    // Messages carry the name the sender shows in the room.
    await say(alice2, 'which alice am I?');
    expect((await alice.next(isMessage(roomId, 'which alice am I?'))).username).toBe('alice (2)');
    await say(alice, 'the first one');
    expect((await alice2.next(isMessage(roomId, 'the first one'))).username).toBe('alice');

    // Back in the lobby the chosen name again; leaving tells the room under the room's name.
    await alice2.expectReply({ action: 'leaveroom' });
    await alice.next(isPresence(roomId, 'leave', 'alice (2)'));
    const info = await alice2.expectReply({ action: 'help' });
    expect(info.username).toBe('alice');
  });

  it('keeps the identity on the connection record: the connection itself without sign-in', async () => {
    const alice = await connect('alice-id');
    const info = await alice.expectReply({ action: 'help' });
    const item = await connectionItem(info.connectionId as string);
    expect(item?.userId?.S).toBe(`connection:${info.connectionId}`);
    expect(item?.chosenName?.S).toBe('alice-id');
  });
});

describe('ordering and history', () => {
  it('a room numbers its messages 1, 2, 3… without gaps and every member gets each exactly once', async () => {
    const alice = await connect('alice-order');
    const bob = await connect('bob-order');
    const roomId = await roomOf(alice, bob);

    const sequential: number[] = [];
    for (let i = 1; i <= 6; i++) sequential.push((await say(alice, `one by one ${i}`)).seq as number);
    expect(sequential).toEqual(range(1, 6));

    // Sent all at once by two members: the seqs still form one gap-free run.
    const burst = await Promise.all(
      range(1, 10).map((i) => say(i % 2 ? alice : bob, `all at once ${i}`).then((a) => a.seq as number)),
    );
    expect([...burst].sort((a, b) => a - b)).toEqual(range(7, 10));

    for (const client of [alice, bob]) {
      await Promise.all(range(1, 16).map((seq) => client.next((f) => isMessage(roomId)(f) && f.seq === seq)));
    }
    await testCloud.settle();
    for (const client of [alice, bob]) {
      expect([...client.seqs(roomId)].sort((a, b) => a - b)).toEqual(range(1, 16));
    }
    const history = await bob.expectReply({ action: 'history', afterSeq: 0, limit: 100 });
    expect((history.messages as Frame[]).map((m) => m.seq)).toEqual(range(1, 16));
  });

  it('history returns what came after afterSeq, in seq order and at most limit; without afterSeq the latest', async () => {
    const alice = await connect('alice-history');
    const roomId = await roomOf(alice);
    for (let i = 1; i <= 12; i++) await say(alice, `history ${i}`);

    const page = await alice.expectReply({ action: 'history', afterSeq: 3, limit: 5 });
    expect(page.roomId).toBe(roomId);
    const messages = page.messages as Frame[];
    expect(messages.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(messages.map((m) => m.text)).toEqual(range(4, 5).map((i) => `history ${i}`));
    expect(messages[0]).toMatchObject({ type: 'message', roomId, username: 'alice-history' });

    const latest = await alice.expectReply({ action: 'history', limit: 3 });
    expect((latest.messages as Frame[]).map((m) => m.seq)).toEqual([10, 11, 12]);
    const nothingNew = await alice.expectReply({ action: 'history', afterSeq: 12 });
    expect(nothingNew.messages).toEqual([]);
    const exactlyMax = await alice.expectReply({ action: 'history', afterSeq: 0, limit: 100 });
    expect((exactlyMax.messages as Frame[]).length).toBe(12);
  });

  it('a client that reconnects and asks history afterSeq gets exactly the messages it missed', async () => {
    const alice = await connect('alice-resume');
    const bob = await connect('bob-resume');
    const roomId = await roomOf(alice, bob);
    for (let i = 1; i <= 3; i++) await say(alice, `before ${i}`);
    await Promise.all(range(1, 3).map((seq) => bob.next((f) => isMessage(roomId)(f) && f.seq === seq)));
    const lastSeen = Math.max(...bob.seqs(roomId));

    await bob.close();
    await alice.next(isPresence(roomId, 'leave', 'bob-resume'));
    const missed: number[] = [];
    for (let i = 1; i <= 4; i++) missed.push((await say(alice, `while away ${i}`)).seq as number);

    const bobAgain = await connect('bob-resume');
    const joined = await joinRoom(bobAgain, roomId, [alice]);
    expect(joined.lastSeq).toBe(missed.at(-1));
    const history = await bobAgain.expectReply({ action: 'history', afterSeq: lastSeen });
    const got = history.messages as Frame[];
    expect(got.map((m) => m.seq)).toEqual(missed);
    expect(got.map((m) => m.text)).toEqual(range(1, 4).map((i) => `while away ${i}`));
  });
});

describe('idempotent retry', () => {
  it('a sendmessage retried with the same clientMsgId gets the same messageId and seq and reaches the room once', async () => {
    const alice = await connect('alice-retry');
    const bob = await connect('bob-retry');
    const roomId = await roomOf(alice, bob);

    const first = await say(alice, 'only once please', 'retry-0001');
    const retry = await say(alice, 'only once please', 'retry-0001');
    expect(first).toMatchObject({ clientMsgId: 'retry-0001', roomId });
    expect(retry).toMatchObject({ messageId: first.messageId, seq: first.seq, clientMsgId: 'retry-0001' });

    const next = await say(alice, 'the one after', 'retry-0002');
    expect(next.seq).toBe((first.seq as number) + 1);
    await bob.next(isMessage(roomId, 'the one after'));
    await testCloud.settle();
    expect(bob.messages(roomId).filter((m) => m.messageId === first.messageId)).toHaveLength(1);
    const history = await bob.expectReply({ action: 'history', afterSeq: 0 });
    expect((history.messages as Frame[]).map((m) => m.text)).toEqual(['only once please', 'the one after']);
  });

  it('the same clientMsgId sent twice at once still makes one message (the second may be told to retry)', async () => {
    const alice = await connect('alice-race');
    const bob = await connect('bob-race');
    const roomId = await roomOf(alice, bob);

    const replies = await Promise.all([
      alice.ask({ action: 'sendmessage', message: 'racing', clientMsgId: 'race-1' }),
      alice.ask({ action: 'sendmessage', message: 'racing', clientMsgId: 'race-1' }),
    ]);
    const acks = replies.filter((r) => r.type === 'ack');
    expect(acks.length).toBeGreaterThanOrEqual(1);
    for (const reply of replies) {
      if (reply.type === 'ack') expect(reply).toMatchObject({ seq: 1, messageId: acks[0]?.messageId });
      else expect(reply).toMatchObject({ type: 'error', code: 'RATE_LIMITED', action: 'sendmessage' });
    }
    await bob.next(isMessage(roomId, 'racing'));
    await testCloud.settle();
    expect(bob.seqs(roomId)).toEqual([1]);
  });
});

describe('bad input', () => {
  const tooLong = 'x'.repeat(4097);
  const cases: [string, unknown, string, string][] = [
    ['text that is not JSON', 'hello there', '$default', 'BAD_REQUEST'],
    ['a JSON array', '["sendmessage","hi"]', '$default', 'BAD_REQUEST'],
    ['JSON null', 'null', '$default', 'BAD_REQUEST'],
    ['sendmessage without message', { action: 'sendmessage' }, 'sendmessage', 'BAD_REQUEST'],
    ['an empty message', { action: 'sendmessage', message: '' }, 'sendmessage', 'BAD_REQUEST'],
    ['a message of spaces', { action: 'sendmessage', message: '   \n ' }, 'sendmessage', 'BAD_REQUEST'],
    ['a number as message', { action: 'sendmessage', message: 42 }, 'sendmessage', 'BAD_REQUEST'],
    ['an object as message', { action: 'sendmessage', message: { text: 'x' } }, 'sendmessage', 'BAD_REQUEST'],
    ['a 4,097-byte message', { action: 'sendmessage', message: tooLong }, 'sendmessage', 'MESSAGE_TOO_LARGE'],
    [
      'a message of 2,049 two-byte characters (4,098 bytes)',
      { action: 'sendmessage', message: 'é'.repeat(2049) },
      'sendmessage',
      'MESSAGE_TOO_LARGE',
    ],
    [
      'a clientMsgId with spaces',
      { action: 'sendmessage', message: 'hi', clientMsgId: 'a b' },
      'sendmessage',
      'BAD_REQUEST',
    ],
    ['joinroom without roomId', { action: 'joinroom' }, 'joinroom', 'BAD_REQUEST'],
    ['a room code too short', { action: 'joinroom', roomId: 'ABC' }, 'joinroom', 'BAD_REQUEST'],
    ['a room code with 0 and O', { action: 'joinroom', roomId: 'AB0OCD' }, 'joinroom', 'BAD_REQUEST'],
    ['a room that does not exist', { action: 'joinroom', roomId: 'ZZZ9ZZ' }, 'joinroom', 'ROOM_NOT_FOUND'],
    ['history limit 101', { action: 'history', limit: 101 }, 'history', 'BAD_REQUEST'],
    ['history limit 0', { action: 'history', limit: 0 }, 'history', 'BAD_REQUEST'],
    ['history afterSeq -1', { action: 'history', afterSeq: -1 }, 'history', 'BAD_REQUEST'],
    ['history afterSeq as text', { action: 'history', afterSeq: '3' }, 'history', 'BAD_REQUEST'],
  ];

  // One room for every case: each case only adds a frame, and checks nobody but the sender heard of it.
  let alice: ChatClient;
  let bob: ChatClient;
  let roomId: string;
  beforeAll(async () => {
    alice = await ChatClient.connect(cloud.wsUrl, 'alice-bad');
    bob = await ChatClient.connect(cloud.wsUrl, 'bob-bad');
    roomId = await roomOf(alice, bob);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
  });

  it.each(cases)(
    '%s gets an error frame with its code, and nobody else receives anything',
    async (_name, frame, action, code) => {
      const aliceMark = alice.mark();
      const bobMark = bob.mark();

      alice.send(frame);
      const error = await alice.next((f) => f.type === 'error');
      expect(error).toMatchObject({ type: 'error', code, action, message: expect.any(String) });
      // A sentence for a person, never a stack trace.
      expect(error.message).not.toMatch(/\n\s+at |Error:|\.js:\d+/);
      await testCloud.settle();
      expect(alice.since(aliceMark)).toEqual([error]);
      expect(bob.since(bobMark)).toEqual([]);
    },
  );

  it('after all those bad frames the sender is still in its room and chats as before', async () => {
    const ack = await say(alice, 'still here');
    expect(ack).toMatchObject({ roomId, seq: 1 });
    await bob.next(isMessage(roomId, 'still here'));
    expect(await membersSeenBy(bob)).toEqual(['alice-bad', 'bob-bad']);
  });

  it('a message of exactly 4,096 bytes is accepted and delivered whole', async () => {
    const alice = await connect('alice-limit');
    const bob = await connect('bob-limit');
    const roomId = await roomOf(alice, bob);
    const text = `${'é'.repeat(2000)}${'x'.repeat(96)}`;
    expect(Buffer.byteLength(text)).toBe(4096);
    await say(alice, text);
    expect((await bob.next(isMessage(roomId))).text).toBe(text);
  });

  it.each([
    ['33 characters', 'u'.repeat(33)],
    ['a control character', 'bell\u0007'],
    ['a newline', 'two\nlines'],
    ['only spaces', '   '],
    ['nothing', ''],
    ['a right-to-left override, showing as "alice"', '\u202Eecila'],
    ['a zero-width space', 'al\u200Bice'],
    ['bidi isolates', '\u2067alice\u2069'],
    ['a tag character', 'alice\u{E0041}'],
  ])('a username with %s is refused at the handshake with 400', async (_name, username) => {
    const before = cloud.gateway.connectionCount();
    const refused = await ChatClient.connect(cloud.wsUrl, username).then(
      (client) => {
        open.push(client);
        throw new Error(`the handshake for ${JSON.stringify(username)} was accepted`);
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).status).toBe(400);
    expect(cloud.gateway.connectionCount()).toBe(before);
    // Any other non-2xx answer of $connect (e.g. 401) is passed through the same way: see
    // tests/local/gateway.test.ts, "refuses the handshake with the function status and passes the query string".
  });

  it('a username of exactly 32 characters is accepted and listed as is', async () => {
    const name = `${'n'.repeat(30)}-Ω`;
    expect([...name]).toHaveLength(32);
    const client = await connect(name);
    await createRoom(client);
    expect(await membersSeenBy(client)).toEqual([name]);
  });

  it('a frame over 128 KB closes only that socket, with 1009, while the others keep chatting', async () => {
    const alice = await connect('alice-big');
    const bob = await connect('bob-big');
    const mallory = await connect('mallory-big');
    const roomId = await roomOf(alice, bob, mallory);

    mallory.send(JSON.stringify({ action: 'sendmessage', message: 'x'.repeat(128 * 1024) }));
    expect((await mallory.closed).code).toBe(1009);
    // $disconnect ran: the room hears mallory leave.
    await alice.next(isPresence(roomId, 'leave', 'mallory-big'));
    await bob.next(isPresence(roomId, 'leave', 'mallory-big'));

    await say(bob, 'still chatting');
    await alice.next(isMessage(roomId, 'still chatting'));
    await bob.next(isMessage(roomId, 'still chatting'));
    expect(await membersSeenBy(alice)).toEqual(['alice-big', 'bob-big']);
    expect(bob.isOpen && alice.isOpen).toBe(true);
  });
});

describe('$default', () => {
  it.each([
    ['help', { action: 'help' }],
    ['an unknown action', { action: 'dance' }],
    ['no action at all', { hello: 'world' }],
  ])('%s is answered with an info frame about the connection and how to use it', async (_name, frame) => {
    const alice = await connect('alice-info');
    const before = Date.now();
    const info = await alice.expectReply(frame);
    expect(info).toMatchObject({
      type: 'info',
      connectionId: expect.stringMatching(CONNECTION_ID),
      sourceIp: '127.0.0.1',
      usage: expect.stringContaining('sendmessage'),
    });
    for (const action of ['createroom', 'joinroom', 'leaveroom', 'history', 'who']) {
      expect(info.usage).toContain(action);
    }
    const connectedAt = Date.parse(String(info.connectedAt));
    expect(connectedAt).toBeLessThanOrEqual(Date.now());
    expect(connectedAt).toBeGreaterThan(before - 60_000);
  });
});

describe('stale connections', () => {
  it('a member whose socket closed without $disconnect is pruned after one fan-out; the others still get the message', async () => {
    const alice = await connect('alice-stale');
    const bob = await connect('bob-stale');
    const ghost = await connect('ghost-stale');
    const roomId = await roomOf(alice, bob, ghost);
    const ghostId = await ghost.connectionId();
    // The joins' presence fan-outs end first: one still posting when the ghost's socket closes would meet it too.
    await testCloud.settle();
    const goneBefore = cloud.gateway.stats().gone;

    cloud.gateway.setFaults({ faultSkipDisconnect: 1 });
    const live = cloud.gateway.connectionCount();
    await ghost.close();
    await waitUntil(() => cloud.gateway.connectionCount() === live - 1, 'the gateway to drop the ghost');
    // The gateway forgot the socket, but the lost $disconnect left the member in the room.
    expect(await membersSeenBy(alice)).toEqual(['alice-stale', 'bob-stale', 'ghost-stale']);
    expect(await connectionItem(ghostId)).toBeDefined();

    const ack = await say(alice, 'anyone still here?');
    expect((await bob.next(isMessage(roomId, 'anyone still here?'))).seq).toBe(ack.seq);
    await alice.next(isMessage(roomId, 'anyone still here?'));
    await testCloud.settle();

    expect(cloud.gateway.stats().gone).toBe(goneBefore + 1);
    expect(await connectionItem(ghostId)).toBeUndefined();
    expect(await membersSeenBy(alice)).toEqual(['alice-stale', 'bob-stale']);
    expect(cloud.executions().failed).toBe(0);
  });
});

describe('failures', () => {
  it('when publishing fails the sender alone gets INTERNAL (the log has the stack), and a retry publishes once with the first seq', async () => {
    const alice = await connect('alice-fail');
    const bob = await connect('bob-fail');
    const carol = await connect('carol-fail');
    const roomId = await roomOf(alice, bob);
    const bobMark = bob.mark();
    const logMark = testCloud.logs.length;

    cloud.eventBridge.setFaultPutEvents(1);
    const failed = await alice.ask({
      action: 'sendmessage',
      message: 'stored, not sent',
      clientMsgId: 'pf-1',
    });
    expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL', action: 'sendmessage' });
    expect(failed.message).not.toMatch(/\n\s+at |PublishFailed|\.js:\d+/);

    const logged = testCloud.logs.slice(logMark).join('\n');
    expect(logged).toMatch(/SendMessageFunction: publishing to the chat bus failed/);
    expect(logged).toMatch(/PublishFailed: PutEvents failed[^\n]*\n\s+at /);

    // Everyone else is served as usual meanwhile.
    expect(await membersSeenBy(bob)).toEqual(['alice-fail', 'bob-fail']);
    expect((await carol.expectReply({ action: 'help' })).type).toBe('info');
    await testCloud.settle();
    expect(bob.since(bobMark).filter((f) => f.type !== 'members')).toEqual([]);

    cloud.eventBridge.setFaultPutEvents(0);
    const ack = await say(alice, 'stored, not sent', 'pf-1');
    expect(ack).toMatchObject({ roomId, seq: 1, clientMsgId: 'pf-1' });
    expect((await bob.next(isMessage(roomId, 'stored, not sent'))).seq).toBe(1);
    const again = await say(alice, 'stored, not sent', 'pf-1');
    expect(again).toMatchObject({ seq: 1, messageId: ack.messageId });
    expect((await say(alice, 'and then the next')).seq).toBe(2);
    await bob.next(isMessage(roomId, 'and then the next'));
    await testCloud.settle();
    expect(bob.seqs(roomId)).toEqual([1, 2]);
  });
});

describe('coverage of the template and of events/', () => {
  const template = loadTemplate(templatePath);
  const [api] = template.webSocketApis();
  // Routes with a function; the MOCK ping route is answered by the gateway itself.
  const functionOfRoute = new Map(
    (api?.routes ?? []).flatMap((r) =>
      r.functionLogicalId ? [[r.routeKey, r.functionLogicalId] as const] : [],
    ),
  );

  it('every route of template.yaml is invoked through the gateway by a real client session', async () => {
    const from = testCloud.invocations.length;
    const alice = await connect('alice-routes');
    const bob = await connect('bob-routes');
    const roomId = await createRoom(alice);
    await joinRoom(bob, roomId, [alice]);
    await say(bob, 'all routes');
    await alice.expectReply({ action: 'history', afterSeq: 0 });
    await alice.expectReply({ action: 'who' });
    await alice.expectReply({ action: 'help' });
    alice.send({ action: 'ping' });
    await alice.next((f) => f.type === 'pong');
    // The creator's actions: a new key, Bob removed, the room closed (which moves Alice to the lobby too).
    await alice.expectReply({ action: 'rotatekey' });
    await alice.expectReply({ action: 'removemember', username: 'bob-routes' });
    await alice.expectReply({ action: 'closeroom' });
    await alice.expectReply({ action: 'leaveroom' });
    await bob.close();
    await waitUntil(
      () => testCloud.invocations.slice(from).some((i) => i.routeKey === '$disconnect'),
      '$disconnect to run',
    );
    await testCloud.settle();

    const seen = testCloud.invocations.slice(from);
    const routeKeys = [...functionOfRoute.keys()];
    expect(routeKeys.length).toBeGreaterThanOrEqual(9);
    for (const routeKey of routeKeys) {
      // A client waits for every route's function: it is served as a request (before background work).
      expect(seen).toContainEqual({ routeKey, logicalId: functionOfRoute.get(routeKey), kind: 'request' });
    }
    expect(seen.filter((i) => i.routeKey === 'ping')).toEqual([]);
    // The fan-out state machine ran the Deliver function for each event of the session, as background work.
    expect(seen).toContainEqual({ logicalId: 'DeliverFunction', routeKey: undefined, kind: 'background' });
  });

  it('every sample event in events/ runs through the local cloud with the result it documents', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob-events');
    const aliceId = await alice.connectionId();
    const bobId = await bob.connectionId();
    const invokeRoute = (name: string, connectionId: string, body?: unknown) => {
      const event = sampleEvent(name, { connectionId, ...(body === undefined ? {} : { body }) });
      const fn = functionOfRoute.get(event.requestContext.routeKey);
      if (!fn)
        throw new Error(`events/${name}.json: no route ${event.requestContext.routeKey} in template.yaml`);
      return cloud.lambda.invoke(fn, event);
    };
    let roomId = '';
    // In order: each step needs what the one before did. The sample's own connection id is swapped for a real one.
    const steps: [string, () => Promise<void>][] = [
      [
        'connect',
        async () => {
          const id = 'E2eSampleConn0=';
          expect(await invokeRoute('connect', `${id}`)).toEqual({ statusCode: 200 });
          expect((await connectionItem(id))?.username?.S).toBe('alice');
        },
      ],
      [
        'disconnect',
        async () => {
          const id = 'E2eSampleConn0=';
          expect(await invokeRoute('disconnect', id)).toEqual({ statusCode: 200 });
          expect(await connectionItem(id)).toBeUndefined();
        },
      ],
      [
        'createroom',
        async () => {
          const joined = frameOf(await invokeRoute('createroom', aliceId));
          expect(joined).toMatchObject({ type: 'joined', members: ['alice'], lastSeq: 0 });
          roomId = joined.roomId as string;
          expect(roomId).toMatch(ROOM_CODE);
        },
      ],
      [
        'joinroom',
        async () => {
          const body = { ...JSON.parse(sampleEvent('joinroom').body ?? '{}'), roomId };
          const joined = frameOf(await invokeRoute('joinroom', bobId, body));
          expect([...(joined.members as string[])].sort()).toEqual(['alice', 'bob-events']);
          await alice.next(isPresence(roomId, 'join', 'bob-events'));
        },
      ],
      [
        'sendmessage',
        async () => {
          const ack = frameOf(await invokeRoute('sendmessage', aliceId));
          expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'c0ffee-0001', roomId, seq: 1 });
          await bob.next(isMessage(roomId, 'hello, everyone!'));
        },
      ],
      [
        'history',
        async () => {
          const history = frameOf(await invokeRoute('history', bobId));
          expect((history.messages as Frame[]).map((m) => m.text)).toEqual(['hello, everyone!']);
        },
      ],
      [
        'who',
        async () => {
          const who = frameOf(await invokeRoute('who', bobId));
          expect([...(who.members as string[])].sort()).toEqual(['alice', 'bob-events']);
        },
      ],
      [
        'default',
        async () => {
          const info = frameOf(await invokeRoute('default', bobId));
          expect(info).toMatchObject({ type: 'info', connectionId: bobId, usage: expect.any(String) });
        },
      ],
      [
        'leaveroom',
        async () => {
          expect(frameOf(await invokeRoute('leaveroom', bobId))).toEqual({ type: 'left', roomId });
          await alice.next(isPresence(roomId, 'leave', 'bob-events'));
        },
      ],
      [
        'deliver',
        async () => {
          const sample = readEvent<{ connectionIds: string[]; payload: string; messageId: string }>(
            'deliver',
          );
          const [, unknownId] = sample.connectionIds;
          const report = await cloud.lambda.invoke('DeliverFunction', {
            ...sample,
            connectionIds: [aliceId, unknownId],
          });
          expect(report).toEqual({
            delivered: 1,
            goneIds: [unknownId],
            retryIds: [],
            failedIds: [],
            unconfirmedIds: [],
          });
          const delivered = await alice.next((f) => f.messageId === sample.messageId);
          expect(delivered).toEqual(JSON.parse(sample.payload));
        },
      ],
      [
        'fanout',
        async () => {
          // The sample is the EventBridge event the rule hands the state machine; publish it on the chat bus.
          const sample = readEvent<{ source: string; 'detail-type': string; detail: { messageId: string } }>(
            'fanout',
          );
          const [bus] = cloud.template.eventBuses();
          const events = new EventBridgeClient({
            endpoint: cloud.eventsEndpoint,
            region: cloud.template.region,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          });
          const result = await events.send(
            new PutEventsCommand({
              Entries: [
                {
                  EventBusName: bus?.name,
                  Source: sample.source,
                  DetailType: sample['detail-type'],
                  Detail: JSON.stringify(sample.detail),
                },
              ],
            }),
          );
          events.destroy();
          expect(result.FailedEntryCount).toBe(0);
          // The sample is a lobby message; bob is back in the lobby.
          const delivered = await bob.next((f) => f.messageId === sample.detail.messageId);
          expect(delivered).toMatchObject({ type: 'message', roomId: 'lobby', text: 'hello, everyone!' });
        },
      ],
      [
        'broadcast',
        async () => {
          // The REST sample: an announcement to everyone (alice is in the room, bob in the lobby).
          const sample = readEvent<{ body: string }>('broadcast');
          const { message } = JSON.parse(sample.body) as { message: string };
          const result = (await cloud.lambda.invoke('BroadcastFunction', sample)) as { statusCode: number };
          expect(result.statusCode).toBe(202);
          for (const client of [alice, bob]) {
            await client.next((f) => f.type === 'broadcast' && f.text === message);
          }
        },
      ],
      [
        'authorizer',
        async () => {
          // The $connect authorizer exists only with AuthMode=token (it needs the token secret in Parameter Store).
          const withTokens = loadTemplate(templatePath, { parameters: { AuthMode: 'token' } });
          const connectRoute = withTokens.webSocketApis()[0]?.routes.find((r) => r.routeKey === '$connect');
          expect(connectRoute?.authorizer?.functionLogicalId).toBe('AuthorizerFunction');
          const sample = readEvent<{ queryStringParameters: { token?: string } }>('authorizer');
          expect(sample.queryStringParameters.token).toEqual(expect.any(String));
          if (cloud.lambda.has('AuthorizerFunction')) {
            // Allowed or denied by policy, or refused as Unauthorized (401) when the local secret differs.
            const result = await cloud.lambda.invoke('AuthorizerFunction', sample).catch((e: Error) => e);
            if (result instanceof Error) expect(result.message).toBe('Unauthorized');
            else
              expect(result).toMatchObject({
                policyDocument: { Statement: [{ Action: 'execute-api:Invoke' }] },
              });
          }
        },
      ],
      [
        'broadcastauthorizer',
        async () => {
          // The TOKEN authorizer of POST /admin/broadcast. The sample's token is signed by no key (replace it with
          // a sign-in ID token of your stack), and this cloud runs AuthMode=none, where nobody signs in: refused.
          const sample = readEvent<{ type: string; authorizationToken: string; methodArn: string }>(
            'broadcastauthorizer',
          );
          expect(sample.type).toBe('TOKEN');
          expect(sample.authorizationToken).toMatch(/^Bearer [-_.A-Za-z0-9]+$/);
          expect(sample.methodArn).toMatch(/\/POST\/admin\/broadcast$/);
          const result = await cloud.lambda
            .invoke('BroadcastAuthorizerFunction', sample)
            .catch((e: Error) => e);
          expect(result).toBeInstanceOf(Error);
          expect((result as Error).message).toBe('Unauthorized');
        },
      ],
    ];

    const files = readdirSync(eventsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    expect(steps.map(([name]) => name).sort()).toEqual(files.sort());
    for (const [name, step] of steps) {
      await step().catch((error: Error) => {
        error.message = `events/${name}.json: ${error.message}`;
        throw error;
      });
    }
  });
});

/** Polls a cheap, local condition (no network): for state the gateway exposes only by reading it. */
async function waitUntil(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
