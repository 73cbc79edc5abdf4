import { randomInt } from 'node:crypto';
import { DeleteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalCloud } from '../../tools/local/cloud';
import { askOrClosed, ChatClient, type Frame } from '../helpers/chatClient';
import { adminDynamo, startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The join-guess budget under load, through the local cloud (docs/SECURITY.md, "Room privacy"): joins of one source
 * in parallel look up no more codes than it has guesses; an honest reconnect whose keys were replaced meanwhile
 * spends none, so a neighbour at the same address still gets in; a `subscribe` of rooms that don't open is struck as
 * joins are; a resubscribe that brings nothing new costs a bounded number of DynamoDB requests per room and tells no
 * one; an `attach` past its daily quota never closes the connection.
 * Every client here is 127.0.0.1, one source: each test starts from a full bucket (the Limits item deleted). The
 * refill is slowed to its longest so "out of guesses" does not depend on the machine's speed; handshakes and rooms
 * per source are not limited, so 40 connections and a dozen rooms fit in one file. The budget is a small one (10
 * guesses, through JoinGuessLimit as the default 50 is): each test needs only more guesses than the budget.
 */
jest.setTimeout(300_000);

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const randomCode = () => Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
const code = (frame: Frame | undefined) =>
  frame === undefined ? 'closed' : frame.type === 'error' ? String(frame.code) : String(frame.type);

let testCloud: TestCloud;
let cloud: LocalCloud;
let db: DynamoDBClient;
const open: ChatClient[] = [];
const GUESSES = 10;
const STRIKES = 10;
const PER_DAY = 2;

beforeAll(async () => {
  testCloud = await startTestCloud({
    // A DynamoDB proxy that throttles nothing but counts every request the functions make.
    faultDynamoThrottle: 0,
    settings: {
      JoinGuessLimit: GUESSES,
      JoinGuessRefillHours: 8760,
      StrikeLimit: STRIKES,
      ConnectRateLimit: 0,
      ConnectionsPerSource: 0,
      RoomCreateLimit: 0,
      AttachmentsPerDay: PER_DAY,
    },
  });
  cloud = testCloud.cloud;
  db = adminDynamo(cloud);
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await testCloud?.settle();
  db?.destroy();
  await cloud?.close();
});

beforeEach(async () => {
  const table = cloud.template.tables().find((t) => t.logicalId === 'LimitsTable')?.TableName;
  await db.send(new DeleteItemCommand({ TableName: table, Key: { limitKey: { S: 'join#127.0.0.1' } } }));
});

async function connect(name: string): Promise<ChatClient> {
  const client = await ChatClient.connect(cloud.wsUrl, name);
  open.push(client);
  return client;
}

const roomsTable = () =>
  cloud.template.tables().find((t) => t.logicalId === 'RoomsTable')?.TableName as string;

/** Reads of Rooms items whose key is one of `codes`: the codes the functions looked up. */
async function lookedUp(codes: Set<string>): Promise<number> {
  const stats = await cloud.dynamoKeyStats({ table: roomsTable(), top: 100_000 });
  return stats.filter((s) => s.index === undefined && codes.has(s.key.replace(/^S:/, '')) && s.reads > 0)
    .length;
}

it('looks up at most JoinGuessLimit codes for 40 connections of one source guessing in parallel', async () => {
  const guessers = await Promise.all(Array.from({ length: 40 }, (_, i) => connect(`guesser-${i}`)));
  const codes = new Set<string>();
  const answers: Record<string, number> = {};
  // Two guesses each, one after another on each connection, all 40 connections at once: 40 in flight, 80 guesses
  // against a budget of 10.
  await Promise.all(
    guessers.map(async (g) => {
      for (let i = 0; i < 2; i++) {
        const roomId = randomCode();
        codes.add(roomId);
        const reply = await askOrClosed(g, { action: 'joinroom', roomId });
        answers[code(reply)] = (answers[code(reply)] ?? 0) + 1;
      }
    }),
  );
  const looked = await lookedUp(codes);
  process.stdout.write(`[figures] ${JSON.stringify({ test: '40 x 2 guesses', answers, looked })}\n`);
  expect(looked).toBeLessThanOrEqual(GUESSES);
  expect(answers.ROOM_NOT_FOUND ?? 0).toBeLessThanOrEqual(GUESSES);
  expect(answers.joined ?? 0).toBe(0);
  await Promise.all(guessers.map((g) => g.close().catch(() => undefined)));
});

// More replaced keys than the source has guesses: were they spent, the neighbour would find none left.
const STALE = GUESSES + 1;

it(`lets a neighbour at the same address in by code after a reconnect brought ${STALE} replaced keys`, async () => {
  // Two owners make six rooms each; STALE of the rooms have their key replaced after alice stored it.
  const owners = await Promise.all(Array.from({ length: 2 }, (_, i) => connect(`owner-${i}`)));
  const made = (
    await Promise.all(
      owners.map(async (o) => {
        const rooms: { roomId: string; key: string }[] = [];
        for (let i = 0; i < 6; i++) {
          // Asked again on BUSY, as the client library does: two owners at once meet on the machine's two cores.
          const created = await o.expectReply({ action: 'createroom' });
          rooms.push({ roomId: String(created.roomId), key: String(created.inviteKey) });
          if (rooms.length + 6 * owners.indexOf(o) <= STALE)
            expect(code(await o.expectReply({ action: 'rotatekey' }))).toBe('keyrotated');
        }
        return rooms;
      }),
    )
  ).flat();
  const stale = made.slice(0, STALE);
  const untouched = made[STALE] as { roomId: string };
  // Alice comes back and resubscribes with the keys she stored, as the client library does.
  const alice = await connect('alice');
  const reply = await alice.expectReply({ action: 'subscribe', rooms: stale });
  const refused = reply.refused as { roomId: string; code: string }[];
  expect(refused.map((r) => r.code)).toEqual(Array(STALE).fill('KEY_REPLACED'));
  expect(alice.isOpen).toBe(true);
  // Her neighbour types the code of a room whose key was never replaced, and gets in.
  const neighbour = await connect('neighbour');
  expect(code(await neighbour.ask({ action: 'joinroom', roomId: untouched.roomId }))).toBe('joined');
  await Promise.all([...owners, alice, neighbour].map((c) => c.close().catch(() => undefined)));
});

it('strikes each room of a subscribe that does not open, and closes the connection at the strike limit', async () => {
  const mallory = await connect('mallory');
  const codes = Array.from({ length: 100 }, () => randomCode());
  const reply = await askOrClosed(mallory, {
    action: 'subscribe',
    rooms: codes.map((roomId) => ({ roomId })),
  });
  await Promise.race([mallory.closed, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  expect(mallory.isOpen).toBe(false);
  // Rooms stop being looked up once StrikeLimit of them failed; the four others in flight then still finish.
  const looked = await lookedUp(new Set(codes));
  process.stdout.write(
    `[figures] ${JSON.stringify({ test: 'subscribe of 100 bad codes', looked, reply: code(reply) })}\n`,
  );
  expect(looked).toBeLessThanOrEqual(STRIKES + 4);
});

it('answers a resubscribe that brings nothing new with one DynamoDB request per room, telling no one', async () => {
  const owner = await connect('host');
  const rooms: { roomId: string; key: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const created = await owner.expectReply({ action: 'createroom' });
    rooms.push({ roomId: String(created.roomId), key: String(created.inviteKey) });
  }
  const bob = await connect('bob');
  const first = await bob.expectReply({ action: 'subscribe', rooms });
  expect(first.refused).toEqual([]);
  const seqs = new Map(
    (first.rooms as { roomId: string; lastSeq: number }[]).map((r) => [r.roomId, r.lastSeq]),
  );
  await testCloud.settle();
  const mark = owner.mark();
  const before = cloud.dynamoFaultStats().requests;
  const again = await bob.expectReply({
    action: 'subscribe',
    rooms: rooms.map((r) => ({ ...r, afterSeq: seqs.get(r.roomId) })),
  });
  const requests = cloud.dynamoFaultStats().requests - before;
  await testCloud.settle();
  process.stdout.write(
    `[figures] ${JSON.stringify({ test: 'resubscribe of 20 rooms, nothing new', requests, perRoom: requests / 20 })}\n`,
  );
  expect(again.refused).toEqual([]);
  expect((again.rooms as unknown[]).length).toBe(20);
  // One per room (the room's item) and a few for the frame (its count, the connection's subscriptions, its
  // strike-free reply); a background sweep may add one or two.
  expect(requests).toBeLessThanOrEqual(20 + 6);
  expect(owner.since(mark).filter((f) => f.type === 'presence')).toEqual([]);
});

it('refuses attach past the daily quota without closing the connection, however often it is asked', async () => {
  const carol = await connect('carol');
  await carol.expectReply({ action: 'createroom' });
  const answers: string[] = [];
  for (let i = 0; i < PER_DAY + STRIKES + 2; i++)
    answers.push(code(await askOrClosed(carol, { action: 'attach', contentType: 'image/png', size: 100 })));
  expect(answers.slice(0, PER_DAY)).toEqual(Array(PER_DAY).fill('upload'));
  expect(answers.slice(PER_DAY)).toEqual(Array(STRIKES + 2).fill('RATE_LIMITED'));
  expect(carol.isOpen).toBe(true);
  expect(code(await carol.ask({ action: 'who' }))).toBe('members');
});
