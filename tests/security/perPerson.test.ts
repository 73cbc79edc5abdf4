import { ROOM_INDEX_SHARDS } from '#core/aws/roomMembers';
import { ChatClient, type Frame, isGatewayError } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Limits of a person, not of a socket (docs/SECURITY.md, "Limits per person"): the connections of one signed-in user
 * (of one source address without sign-in) share one budget of sends, reactions and read marks, one cap on the kinds
 * of reaction they give a message, and one mention notice per person and room per MentionNoticeSeconds. Counted, not
 * timed: each budget's window is an hour, so nothing refills while a test runs.
 */
jest.setTimeout(300_000);

/** A reply's wait: long, as this machine is shared and loaded; one frame of each connection is in flight at a time. */
const ASK_MS = 60_000;

const PERSON_SENDS = 10;
const PERSON_REACTIONS = 10;
const PERSON_READS = 6;
const DEVICES = 10;

const { device, ask } = signedInCloud({
  PersonSendRateLimit: PERSON_SENDS,
  PersonReactionRateLimit: PERSON_REACTIONS,
  PersonReadRateLimit: PERSON_READS,
  PersonRateWindowSeconds: 3600,
  MentionNoticeSeconds: 600,
  FrameRateLimit: 100_000,
  // The connection's own send bucket out of the way: what is counted here is the person's.
  SendRateLimit: 1000,
});

const count = (replies: Frame[], pick: (f: Frame) => boolean) => replies.filter(pick).length;

/**
 * Each connection's frames one after another (the next sent once the last is answered), the connections at once. A
 * BUSY answer (a limit met for now on this loaded machine), or the gateway's own `Endpoint request timed out` (the
 * route ran past API Gateway's 29 s), is kept as it is: it may have spent a token of the person's before it gave up,
 * so the budgets below are checked as "at most the limit, and at least the limit less the unfinished answers".
 */
async function eachInTurn(
  asking: (frame: Record<string, unknown>) => Promise<Frame>,
  frames: Record<string, unknown>[],
): Promise<Frame[]> {
  const replies: Frame[] = [];
  for (const frame of frames) replies.push(await asking(frame));
  return replies;
}
const isBusy = (f: Frame) => (f.type === 'error' && f.code === 'BUSY') || isGatewayError(f);

/** What one person got through: `through` replies of `type`, and every other reply the person's refusal or BUSY. */
function expectBudget(replies: Frame[], type: string, limit: number): void {
  const through = count(replies, (f) => f.type === type);
  const busy = count(replies, isBusy);
  process.stdout.write(
    `[figures] ${JSON.stringify({ type, asked: replies.length, through, busy, limit })}\n`,
  );
  expect(through).toBeLessThanOrEqual(limit);
  expect(through).toBeGreaterThanOrEqual(limit - busy);
  expect(count(replies, personRefusal)).toBe(replies.length - through - busy);
}
const inTurns = async (runs: Promise<Frame[]>[]) => (await Promise.all(runs)).flat();
const personRefusal = (f: Frame) =>
  f.type === 'error' &&
  f.code === 'RATE_LIMITED' &&
  /from all your connections together/.test(String(f.message));

/** `n` connections of one user, opened one after another (ten handshakes at once overload this shared machine). */
async function devices(name: string, n: number): Promise<ChatClient[]> {
  const opened: ChatClient[] = [];
  for (let i = 0; i < n; i++) opened.push(await device(name));
  return opened;
}

/** A room of `owner` joined by `others`, each by the invite key. */
async function roomOf(owner: ChatClient, others: ChatClient[]): Promise<string> {
  const created = await owner.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  for (const other of others) await other.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  return roomId;
}

it(`lets ${DEVICES} connections of one user send, react and mark read no more than one person's budget, without closing any`, async () => {
  const bob = await device('bob');
  const mallory = await devices('mallory', DEVICES);
  await roomOf(bob, mallory);

  // Three sends from each device, all at once: 30 asked, one person's 10 stored.
  const sends = await inTurns(
    mallory.map((m, i) =>
      eachInTurn(
        (f) => m.ask(f, ASK_MS),
        [0, 1, 2].map((k) => ({ action: 'sendmessage', message: `m${i}.${k}`, clientMsgId: `m${i}-${k}` })),
      ),
    ),
  );
  expectBudget(sends, 'ack', PERSON_SENDS);
  const acked = sends.filter((f) => f.type === 'ack').map((f) => Number(f.seq));

  // Three reactions from each device, each a different (message, emoji): 30 asked, one person's 10 given.
  const emoji = ['👍', '🎉', '🙂'];
  const reactions = await inTurns(
    mallory.map((m, i) =>
      eachInTurn(
        (f) => m.ask(f, ASK_MS),
        emoji.map((reaction) => ({ action: 'react', seq: acked[i % acked.length], reaction })),
      ),
    ),
  );
  expectBudget(reactions, 'changed', PERSON_REACTIONS);

  // A read mark from each device: one person's 6 moved.
  // A read mark from each device, one device after another: the ten write one member's read position, and at once
  // they would meet each other there rather than the budget.
  const reads: Frame[] = [];
  for (const [i, m] of mallory.entries())
    reads.push(await m.ask({ action: 'markread', seq: Math.max(...acked) - i }, ASK_MS));
  expectBudget(reads, 'read', PERSON_READS);

  // Bob's budget is his own, and every connection of Mallory's is still open: refusals for the person's budget are
  // no strikes on a connection.
  expect((await ask(bob, { action: 'sendmessage', message: 'still here' })).type).toBe('ack');
  expect(mallory.every((m) => m.isOpen)).toBe(true);
  const history = await ask(bob, { action: 'history', limit: 100 });
  const texts = (history.messages as Frame[]).map((m) => String(m.text));
  // What the room holds: a BUSY answer may come for a send that is stored after all (its deadline passed first).
  const stored = texts.filter((t) => /^m\d/.test(t)).length;
  expect(stored).toBeLessThanOrEqual(PERSON_SENDS);
  expect(stored).toBeGreaterThanOrEqual(count(sends, (f) => f.type === 'ack'));
});

it('gives bob one mention notice for 60 mentions of him from 5 connections of one sender', async () => {
  const ana = await device('ana');
  const bob = await device('bob');
  const carol = await devices('carol', 5);
  await roomOf(ana, [bob, ...carol]);
  // Bob's phone shows another room: mentions reach it as `mention` frames.
  const bobPhone = await device('bob');
  await bobPhone.expectReply({ action: 'createroom' });

  const sends = await inTurns(
    carol.map((c, i) =>
      eachInTurn(
        (f) => c.ask(f, ASK_MS),
        Array.from({ length: 12 }, (_, k) => ({
          action: 'sendmessage',
          message: `@bob look ${i}.${k}`,
          clientMsgId: `c${i}-${k}`,
        })),
      ),
    ),
  );
  // The sends stored are Carol's budget; each names bob.
  expectBudget(sends, 'ack', PERSON_SENDS);
  await bob.next((f) => f.type === 'message' && String(f.text).startsWith('@bob'));
  // A marker after the flood, then a moment for any notice in flight.
  await ask(ana, { action: 'sendmessage', message: '@bob marker from ana' });
  await bobPhone.next((f) => f.type === 'mention' && f.username === 'ana');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const fromCarol = bobPhone.frames.filter((f) => f.type === 'mention' && f.username === 'carol');
  expect(fromCarol).toHaveLength(1);
});

describe('without sign-in (ReactionKindsPerSource=5): the connections of one address', () => {
  let testCloud: TestCloud;
  const open: ChatClient[] = [];

  beforeAll(async () => {
    testCloud = await startTestCloud({ settings: { ReactionKindsPerSource: 5, FrameRateLimit: 100_000 } });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await testCloud?.cloud.close();
  });

  it('give one message at most 5 kinds of reaction across 4 connections, and may swap one for another', async () => {
    const connect = async (name: string) => {
      const client = await ChatClient.connect(testCloud.cloud.wsUrl, name);
      open.push(client);
      return client;
    };
    const alice = await connect('alice');
    const guests: ChatClient[] = [];
    for (const name of ['g1', 'g2', 'g3', 'g4']) guests.push(await connect(name));
    await roomOf(alice, guests);
    const { seq } = await alice.expectReply({ action: 'sendmessage', message: 'react to me' });
    const kinds = [
      '👍',
      '🎉',
      '🙂',
      '😂',
      '🔥',
      '👀',
      '💯',
      '🙏',
      '😮',
      '😢',
      '🚀',
      '✅',
      '❤️',
      '👏',
      '🤔',
      '🍕',
      '🌟',
      '🎈',
      '🐱',
      '🌈',
    ];
    // Each guest asks for five of the twenty kinds: every kind of the message, if each connection counted apart.
    const replies = await inTurns(
      guests.map((g, i) =>
        eachInTurn(
          (f) => g.ask(f, ASK_MS),
          kinds.slice(i * 5, i * 5 + 5).map((reaction) => ({ action: 'react', seq, reaction })),
        ),
      ),
    );
    const changed = count(replies, (f) => f.type === 'changed');
    const busy = count(replies, isBusy);
    const refused = count(
      replies,
      (f) => f.type === 'error' && /Your network gives this message 5/.test(String(f.message)),
    );
    process.stdout.write(`[figures] ${JSON.stringify({ kinds: 20, changed, refused, busy })}\n`);
    expect(changed).toBeLessThanOrEqual(5);
    expect(changed + refused + busy).toBe(20);
    const kindsOf = async () => {
      const page = await alice.expectReply({ action: 'history' });
      const message = (page.messages as Frame[]).find((m) => m.seq === seq);
      return (message?.reactions as Frame[] | undefined)?.map((r) => String(r.reaction)) ?? [];
    };
    const given = await kindsOf();
    expect(given.length).toBeGreaterThanOrEqual(changed);
    expect(given.length).toBeLessThanOrEqual(5);
    // Taking one back frees its place for another kind, from any connection of the address.
    const [first] = given;
    const giver = guests.find((_, i) => kinds.slice(i * 5, i * 5 + 5).includes(String(first))) as ChatClient;
    await giver.expectReply({ action: 'react', seq, reaction: first, remove: true }, ASK_MS);
    const other = kinds.find((k) => !given.includes(k)) as string;
    expect(
      (await (guests[3] as ChatClient).expectReply({ action: 'react', seq, reaction: other }, ASK_MS)).type,
    ).toBe('changed');
    expect((await kindsOf()).length).toBeLessThanOrEqual(5);
  });
});

describe("without sign-in (PersonSendRateLimit=1): a refusal's cost", () => {
  let testCloud: TestCloud;
  const open: ChatClient[] = [];

  beforeAll(async () => {
    // faultDynamoThrottle: 0 puts the counting proxy in front of DynamoDB, throttling nothing.
    testCloud = await startTestCloud({
      faultDynamoThrottle: 0,
      settings: { PersonSendRateLimit: 1, PersonRateWindowSeconds: 3600, FrameRateLimit: 100_000 },
    });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await testCloud?.cloud.close();
  });

  it('answers a refused send naming a member with about the DynamoDB requests of one naming nobody', async () => {
    const { cloud } = testCloud;
    const connect = async (name: string) => {
      const client = await ChatClient.connect(cloud.wsUrl, name);
      open.push(client);
      return client;
    };
    const alice = await connect('alice');
    const bob = await connect('bob');
    await roomOf(alice, [bob]);
    // The address's one send: everything after it is refused for the person's budget.
    expect((await alice.ask({ action: 'sendmessage', message: 'the one' }, ASK_MS)).type).toBe('ack');
    const requestsOf = async (message: string) => {
      await testCloud.settle();
      const before = cloud.dynamoFaultStats().requests;
      const sends = 5;
      for (let i = 0; i < sends; i++)
        expect(personRefusal(await alice.ask({ action: 'sendmessage', message }, ASK_MS))).toBe(true);
      await testCloud.settle();
      return (cloud.dynamoFaultStats().requests - before) / sends;
    };
    const plain = await requestsOf('hello');
    const naming = await requestsOf('hello @bob');
    process.stdout.write(`[figures] ${JSON.stringify({ refusedPlain: plain, refusedNaming: naming })}\n`);
    // A name costs the scan of the room's index (a Query per key, ROOM_INDEX_SHARDS of them, one after another) only
    // when the send is let through: refused, the few pages already asked for when the refusal came.
    expect(naming).toBeLessThanOrEqual(plain + ROOM_INDEX_SHARDS / 3);
  });
});
