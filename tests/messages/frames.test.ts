import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { RoomcastClient } from '@roomcast/client';
import type { MessageFrame } from '#protocol';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { libraryClient } from '../helpers/libraryMember';
import { deleteConnection } from '../helpers/localCloud';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Every frame within API Gateway's 128 KB message, as a user of a busy room meets it: 100 messages of 4,000 `"`
 * (each 8 KB of JSON) come back from `history` and in a newcomer's `joined` in pages under 128 KB that together
 * hold every message, and the client library follows the pages when it joins and when it resumes. Messages past
 * their TTL, which DynamoDB deletes days late (the local one never), are not served.
 */
jest.setTimeout(240_000);

const MESSAGE_LIMIT = 128 * 1024;
const QUOTES = '"'.repeat(4000);

const world = roomCloud();
const libraries: RoomcastClient[] = [];
/** The largest frame any client of these tests received, in UTF-8 bytes (the closing note quotes it). */
let largestFrame = 0;

afterAll(() => {
  // The measurement this test exists to give (docs/MEASUREMENTS.md).
  console.log(`largest frame received: ${largestFrame} bytes`);
});

afterEach(() => {
  for (const chat of libraries.splice(0)) chat.close();
});

const bytesOf = (frame: Frame) => Buffer.byteLength(JSON.stringify(frame), 'utf8');

async function connect(username: string): Promise<ChatClient> {
  const client = await world.connect(username);
  client.onFrame((frame) => {
    largestFrame = Math.max(largestFrame, bytesOf(frame));
  });
  return client;
}

/**
 * Writes messages `from`..`to` of the room straight into its table, as sends would have stored them (nobody is
 * told: the readers below fetch them), and moves the room's seq on. `ttl`: their expiry, epoch seconds.
 */
async function seed(roomId: string, from: number, to: number, ttl: number): Promise<void> {
  const items = [];
  for (let seq = from; seq <= to; seq++) {
    const message = {
      roomId,
      seq,
      messageId: `seeded-${roomId}-${seq}`,
      username: 'quoter',
      text: `${seq} ${QUOTES}`,
      sentAt: new Date(Date.now() - (to - seq) * 1000).toISOString(),
      ttl,
    };
    items.push({ PutRequest: { Item: marshall(message) } });
  }
  for (let i = 0; i < items.length; i += 25) {
    await world.db.send(
      new BatchWriteItemCommand({ RequestItems: { [world.table('MessagesTable')]: items.slice(i, i + 25) } }),
    );
  }
  await world.setNumber('RoomsTable', { roomId }, 'seq', to);
}

const inAWeek = () => Math.floor(Date.now() / 1000) + 7 * 86400;

/** A room of `count` seeded messages of 4,000 quotes, made by `owner`; its id and invite key. */
async function busyRoom(owner: ChatClient, count = 100): Promise<{ roomId: string; key: string }> {
  const created = await owner.expectReply({ action: 'createroom' });
  const roomId = created.roomId as string;
  await seed(roomId, 1, count, inAWeek());
  return { roomId, key: created.inviteKey as string };
}

/** Asks `history` and follows `hasMore`; every page and its seqs. */
async function allPages(client: ChatClient, first: Record<string, unknown>): Promise<Frame[]> {
  const pages: Frame[] = [];
  let query = first;
  for (;;) {
    const page = await client.expectReply({ action: 'history', ...query });
    pages.push(page);
    const messages = page.messages as MessageFrame[];
    if (page.hasMore !== true) return pages;
    expect(messages.length).toBeGreaterThan(0);
    query = { afterSeq: messages.at(-1)?.seq, limit: query.limit };
    if (pages.length > 20) throw new Error('history never said it was done');
  }
}

const seqsOf = (pages: Frame[]) => pages.flatMap((p) => (p.messages as MessageFrame[]).map((m) => m.seq));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('history in a room of 100 messages of 4,000 quotes', () => {
  it('answers limit 100 after seq 0 in pages under 128 KB that hold all 100, in order', async () => {
    const alice = await connect('alice-pages');
    await busyRoom(alice);
    const pages = await allPages(alice, { afterSeq: 0, limit: 100 });
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) expect(bytesOf(page)).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(seqsOf(pages)).toEqual(range(1, 100));
    expect(pages.at(-1)?.hasMore).toBe(false);
  });

  it('answers the latest 100 (no afterSeq) from the oldest of them on, in pages that together hold all 100', async () => {
    const alice = await connect('alice-latest');
    await busyRoom(alice);
    const pages = await allPages(alice, { limit: 100 });
    for (const page of pages) expect(bytesOf(page)).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(seqsOf(pages)).toEqual(range(1, 100));
  });

  it('says hasMore when a page stops at its limit with more to come, and not after the last message', async () => {
    const alice = await connect('alice-limit');
    await busyRoom(alice, 12);
    const first = await alice.expectReply({ action: 'history', afterSeq: 0, limit: 5 });
    expect((first.messages as MessageFrame[]).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(first.hasMore).toBe(true);
    const last = await alice.expectReply({ action: 'history', afterSeq: 7, limit: 5 });
    expect((last.messages as MessageFrame[]).map((m) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(last.hasMore).toBe(false);
  });
});

describe("a newcomer's joined in such a room", () => {
  it('stays under 128 KB, says hasMore, and history after its last seq brings the rest of the 50', async () => {
    const alice = await connect('alice-join');
    const bob = await connect('bob-join');
    const { roomId, key } = await busyRoom(alice);
    const joined = await bob.expectReply({ action: 'joinroom', roomId, key });
    expect(bytesOf(joined)).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(joined.hasMore).toBe(true);
    expect(joined.lastSeq).toBe(100);
    const backlog = (joined.history as MessageFrame[]).map((m) => m.seq);
    expect(backlog[0]).toBe(51);
    const rest = await allPages(bob, { afterSeq: backlog.at(-1), limit: 100 });
    expect([...backlog, ...seqsOf(rest)]).toEqual(range(51, 100));
  });
});

describe('the client library follows the pages', () => {
  function library(username: string): { chat: RoomcastClient; seqs: number[] } {
    const chat = libraryClient(world.cloud.wsUrl, username, libraries);
    const seqs: number[] = [];
    chat.on('message', (message) => seqs.push(message.seq));
    chat.on('frame', ({ raw }) => {
      largestFrame = Math.max(largestFrame, Buffer.byteLength(raw, 'utf8'));
    });
    return { chat, seqs };
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > 30_000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('hands over the latest 50 in order when it joins, and all 100 more after a resume', async () => {
    const alice = await connect('alice-lib');
    const { roomId, key } = await busyRoom(alice);
    const carol = library('carol-lib');
    await carol.chat.ready(30_000);
    await carol.chat.join(roomId, key);
    await until(() => carol.seqs.length >= 50, 'the backlog of 50');
    expect(carol.seqs).toEqual(range(51, 100));

    // 100 more arrive while carol's connection is gone: the resume reads them all, page by page.
    const resumed = new Promise<void>((resolve) => {
      const off = carol.chat.on('state', (s) => {
        if (s.state === 'reconnecting') {
          off();
          resolve();
        }
      });
    });
    await seed(roomId, 101, 200, inAWeek());
    await deleteConnection(world.cloud.gateway.callbackUrl, (await carol.chat.info()).connectionId);
    await resumed;
    await until(() => carol.seqs.length >= 150, 'the 100 messages missed');
    expect(carol.seqs).toEqual(range(51, 200));
  });
});

describe('messages past their TTL', () => {
  it('are left out of history and joined though DynamoDB has not deleted them yet', async () => {
    const alice = await connect('alice-ttl');
    const created = await alice.expectReply({ action: 'createroom' });
    const roomId = created.roomId as string;
    const now = Math.floor(Date.now() / 1000);
    // Seqs 1-120 expired an hour ago (more than one page of DynamoDB's Limit); 121-125 live a week more.
    await seed(roomId, 1, 120, now - 3600);
    await seed(roomId, 121, 125, inAWeek());
    const after = await alice.expectReply({ action: 'history', afterSeq: 0, limit: 10 });
    expect((after.messages as MessageFrame[]).map((m) => m.seq)).toEqual(range(121, 125));
    expect(after.hasMore).toBe(false);
    const latest = await alice.expectReply({ action: 'history', limit: 100 });
    expect((latest.messages as MessageFrame[]).map((m) => m.seq)).toEqual(range(121, 125));
    const bob = await connect('bob-ttl');
    const joined = await bob.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
    expect((joined.history as MessageFrame[]).map((m) => m.seq)).toEqual(range(121, 125));
  });
});
