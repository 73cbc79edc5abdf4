import { ACTIONS } from '#protocol';
import { ChatClient, type Frame, HandshakeRefused, isMessage, isPresence } from '../helpers/chatClient';
import {
  CONNECTION_ID,
  closeAfterTest,
  connect,
  connectionItem,
  createRoom,
  joinRoom,
  membersSeenBy,
  ROOM_CODE,
  range,
  roomOf,
  say,
  useChatCloud,
} from '../helpers/chatWorld';

/**
 * The chat as a user sees it (tests/helpers/chatWorld.ts starts the cloud): the lobby, rooms, names, ordering and
 * history, idempotent retries, bad input and `$default`.
 */
jest.setTimeout(240_000);

const world = useChatCloud();

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
    await world.test.settle();
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
    await world.test.settle();
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

  it('a client back with its resume token before its old connection has gone keeps its name, is not told as joining, and other clients do not take it', async () => {
    const bob = await connect('bob-back');
    const resumeToken = 'AliceResumeToken123456';
    const alice = await ChatClient.connect(world.cloud.wsUrl, 'alice-back', undefined, { resumeToken });
    closeAfterTest(alice);
    const roomId = await roomOf(bob, alice);
    // Her network drops: the old connection stays listed (no $disconnect yet) while she reconnects and rejoins.
    const back = await ChatClient.connect(world.cloud.wsUrl, 'alice-back', undefined, { resumeToken });
    closeAfterTest(back);
    const mark = bob.mark();
    const joined = await back.expectReply({ action: 'joinroom', roomId });
    // Her two connections are one member: listed once.
    expect([...(joined.members as string[])].sort()).toEqual(['alice-back', 'bob-back']);
    await say(back, 'still me');
    expect((await bob.next(isMessage(roomId, 'still me'))).username).toBe('alice-back');
    // Bob sees her present all along: her second connection entering is no join (the room's frames are in order).
    expect(bob.since(mark).filter(isPresence(roomId, 'join', 'alice-back'))).toEqual([]);
    // Someone else choosing her name is still numbered.
    const other = await ChatClient.connect(world.cloud.wsUrl, 'alice-back', undefined, {
      resumeToken: 'SomeoneElse12345678901',
    });
    closeAfterTest(other);
    await other.expectReply({ action: 'joinroom', roomId });
    await bob.next(isPresence(roomId, 'join', 'alice-back (2)'));
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
    await world.test.settle();
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

  it('history scrolls back a page at a time with beforeSeq, and says where the room starts', async () => {
    const alice = await connect('alice-scroll');
    await roomOf(alice);
    for (let i = 1; i <= 12; i++) await say(alice, `scroll ${i}`);
    const seqsOf = (page: Frame) => (page.messages as Frame[]).map((m) => m.seq);

    const latest = await alice.expectReply({ action: 'history', limit: 5 });
    expect(seqsOf(latest)).toEqual([8, 9, 10, 11, 12]);
    expect(latest.hasOlder).toBe(true);
    const older = await alice.expectReply({ action: 'history', beforeSeq: 8, limit: 5 });
    expect(seqsOf(older)).toEqual([3, 4, 5, 6, 7]);
    expect(older.hasOlder).toBe(true);
    const first = await alice.expectReply({ action: 'history', beforeSeq: 3, limit: 5 });
    expect(seqsOf(first)).toEqual([1, 2]);
    expect(first.hasOlder).toBe(false);
    // Exactly a page left: no older one is promised.
    expect((await alice.expectReply({ action: 'history', beforeSeq: 6, limit: 5 })).hasOlder).toBe(false);
    await expect(alice.expectReply({ action: 'history', afterSeq: 1, beforeSeq: 5 })).rejects.toThrow(
      /"code":"BAD_REQUEST","message":"Ask for messages after \\"afterSeq\\" or before \\"beforeSeq\\", not both./,
    );
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
    await world.test.settle();
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
    // Each attempt takes a seq; whichever records the clientMsgId first holds its message, the other marks its own
    // seq a gap and answers the same ack: one message, under seq 1 or 2 as the race went.
    const seq = acks[0]?.seq as number;
    expect([1, 2]).toContain(seq);
    for (const reply of replies) {
      if (reply.type === 'ack') expect(reply).toMatchObject({ seq, messageId: acks[0]?.messageId });
      else expect(reply).toMatchObject({ type: 'error', code: 'RATE_LIMITED', action: 'sendmessage' });
    }
    await bob.next(isMessage(roomId, 'racing'));
    await world.test.settle();
    expect(bob.seqs(roomId)).toEqual([seq]);
    const history = await bob.expectReply({ action: 'history', afterSeq: 0 });
    expect((history.messages as Frame[]).map((m) => m.text)).toEqual(['racing']);
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
    alice = await ChatClient.connect(world.cloud.wsUrl, 'alice-bad');
    bob = await ChatClient.connect(world.cloud.wsUrl, 'bob-bad');
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
      await world.test.settle();
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
    const before = world.cloud.gateway.connectionCount();
    const refused = await ChatClient.connect(world.cloud.wsUrl, username).then(
      (client) => {
        closeAfterTest(client);
        throw new Error(`the handshake for ${JSON.stringify(username)} was accepted`);
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).status).toBe(400);
    expect(world.cloud.gateway.connectionCount()).toBe(before);
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
    // Every action the protocol defines is named, not a handful of them.
    expect(ACTIONS.length).toBeGreaterThan(15);
    for (const action of ACTIONS) expect(info.usage).toMatch(new RegExp(`\\b${action}\\b`));
    const connectedAt = Date.parse(String(info.connectedAt));
    expect(connectedAt).toBeLessThanOrEqual(Date.now());
    expect(connectedAt).toBeGreaterThan(before - 60_000);
  });
});
