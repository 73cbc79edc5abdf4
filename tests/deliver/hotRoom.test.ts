import { ROOM_INDEX_SHARDS, roomIndexShard } from '#core/aws/roomMembers';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * A busy room as its members see it, through the local cloud: messages sent faster than one fan-out cycle reach
 * every member once each, several to a post; with half of all posts answered 429 for the whole run, every message
 * arrives live or its member is told to resync before its next message (a post and its one repost both throttled).
 * The clients never ask for history here, so a message that arrived only through history would count as missing.
 */
jest.setTimeout(240_000);

/** Replies and frames on a VM shared with other work can take seconds; these tests count what arrives, not when. */
const PATIENCE_MS = 90_000;

const stage = roomCloud(
  {
    settings: { SendRateLimit: '1000', FrameRateLimit: '100000' },
    // The fan-out's backoffs before a throttled post is tried again (1 to 8 s on AWS) last 10 ms per second: what
    // these tests count is what arrives, and a throttled member is tried until its retry budget (wall-clock) runs
    // out either way. The Retry pauses keep real time: the Lambda throttles they wait out end in real time.
    // The departure's pause keeps AWS's pace here (this clock names only the reposts' waits).
    stepFunctionsTestClock: { msPerSecond: 10, states: ['WaitToRepost'] },
  },
  { patienceMs: PATIENCE_MS, reset: (cloud) => cloud.gateway.setFaults({ faultThrottle: 0 }) },
);

/** A room of `size` members, every join seen by everyone, so what follows starts clean. */
const room = (prefix: string, size: number) =>
  stage.settledRoom(Array.from({ length: size }, (_, i) => `${prefix}${i}`));

/**
 * Sends `count` messages from `sender` without waiting between them, each retried with its clientMsgId while the
 * chat answers that it is busy (as the client library does); resolves with their seqs from the acks.
 */
async function burst(sender: ChatClient, count: number, tag: string): Promise<number[]> {
  const sendOne = async (i: number) => {
    const frame = { action: 'sendmessage', message: `${tag} ${i}`, clientMsgId: `${tag}-${i}` };
    for (let tries = 1; ; tries++) {
      sender.send(frame);
      const reply = await sender.next(
        (f) => (f.type === 'ack' || f.type === 'error') && f.clientMsgId === frame.clientMsgId,
        PATIENCE_MS,
        `the reply to ${frame.clientMsgId}`,
      );
      if (reply.type === 'ack') return reply.seq as number;
      if (tries >= 5 || !String(reply.message).includes('Retry'))
        throw new Error(`${frame.clientMsgId}: ${JSON.stringify(reply)}`);
    }
  };
  const seqs = await Promise.all(Array.from({ length: count }, (_, i) => sendOne(i)));
  return seqs.sort((a, b) => a - b);
}

/** The frames that carried the room's messages to `client` (a `message` or a `batch`), as they came off the socket. */
const postsOf = (client: ChatClient, roomId: string) =>
  client.frames.filter((f) => (f.type === 'message' || f.type === 'batch') && f.roomId === roomId);

/** The seqs `client` received in the room, a batch's each on its own, in arrival order. */
const seqsOf = (client: ChatClient, roomId: string) =>
  postsOf(client, roomId).flatMap((f) =>
    f.type === 'batch' ? (f.messages as Frame[]).map((m) => m.seq as number) : [f.seq as number],
  );

/** Waits until `client` has every seq in `seqs` (or the wait runs out), then returns the seqs it got, in arrival order. */
async function seqsReceived(
  client: ChatClient,
  roomId: string,
  seqs: number[],
  timeoutMs: number,
): Promise<number[]> {
  const got = () => seqsOf(client, roomId);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !seqs.every((s) => got().includes(s)))
    await new Promise((resolve) => setTimeout(resolve, 100));
  return got();
}

it('a busy room: every member gets every message exactly once, in fewer posts than messages', async () => {
  const { roomId, members } = await room('busy', 8);
  const senders = members.slice(0, 2);
  const seqs = (await Promise.all(senders.map((s, i) => burst(s, 8, `b${i}`)))).flat().sort((a, b) => a - b);
  expect(seqs).toHaveLength(16);
  for (const member of members) {
    const got = await seqsReceived(member, roomId, seqs, 60_000);
    expect([...got].sort((a, b) => a - b)).toEqual(seqs);
    // Frames that carried the room's messages to this member: fewer than the messages.
    expect(postsOf(member, roomId).length).toBeLessThan(seqs.length);
  }
  expect(members.some((m) => postsOf(m, roomId).some((f) => f.type === 'batch'))).toBe(true);
});

it('half of all posts answered 429 for the whole run: every message arrives live, or its member is told to resync from before it; none twice', async () => {
  const { roomId, members } = await room('half', 6);
  stage.cloud.gateway.setFaults({ faultThrottle: 0.5 });
  const [sender] = members as [ChatClient];
  const seqs: number[] = [];
  for (let round = 0; round < 4; round++) {
    seqs.push(...(await burst(sender, 3, `h${round}`)));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await stage.test.settle();
  expect(stage.cloud.gateway.stats().throttled).toBeGreaterThan(0);
  // The throttling ends; the next message carries each noted member's resync frame before it.
  stage.cloud.gateway.setFaults({ faultThrottle: 0 });
  const [last] = await burst(sender, 1, 'after');
  for (const member of members) {
    const got = await seqsReceived(member, roomId, [last as number], PATIENCE_MS);
    expect(got.filter((seq) => seq === last)).toHaveLength(1);
    // A post that failed its repost too leaves a resync note: the member hears `resync` (fetch history after
    // afterSeq) before its next message, so a message it lacks is never lost silently.
    const resyncs = member.frames
      .filter((f) => f.type === 'resync' && f.roomId === roomId)
      .map((f) => f.afterSeq as number);
    const missing = seqs.filter((seq) => !got.includes(seq));
    for (const seq of missing) expect(resyncs.some((after) => after < seq)).toBe(true);
    expect(new Set(got).size).toBe(got.length);
  }
});

it("a quiet room's message takes one Prepare and one post: its members share the room's one index key", async () => {
  const { roomId, members } = await room('quiet', 3);
  await stage.test.settle();
  const delivers = (op: string) =>
    stage.test.invocations.filter((i) => i.logicalId === 'DeliverFunction' && i.op === op).length;
  const before = { prepare: delivers('prepare'), post: delivers('post') };
  // Over the full level they would have hashed to more than one key (and cost a post each).
  const shards = new Set(
    await Promise.all(members.map(async (m) => roomIndexShard(await m.connectionId(), ROOM_INDEX_SHARDS))),
  );
  const [seq] = await burst(members[0] as ChatClient, 1, 'q');
  for (const member of members)
    expect(await seqsReceived(member, roomId, [seq as number], PATIENCE_MS)).toEqual([seq]);
  await stage.test.settle();
  expect(delivers('prepare') - before.prepare).toBe(1);
  expect(delivers('post') - before.post).toBe(1);
  console.info(`hot room: a room of 3 (over ${shards.size} keys at the full level) took 1 post`);
});
