import type { RoomcastClient } from '@roomcast/client';
import type { MessageFrame } from '#protocol';
import { libraryClient, libraryCloud, waitFor } from '../helpers/libraryMember';

/**
 * Nobody waits for the room's next message: with a share of the management API's posts answered 429 for the whole
 * run, every member of a 20-member room comes to have every message of a burst of 10, though the room is quiet
 * afterwards. A member the post and its repost both miss is told by a resync frame tried again over the next seconds
 * (functions/deliver/post.ts), and the client library reads what it missed from history. Nothing else would bring a
 * missed message to a member of a quiet room, so the test waits for the burst to be complete, however long a busy
 * machine takes: the time it took is printed as a figure, not asserted (speed belongs to `npm run bench`).
 */
jest.setTimeout(300_000);

const MEMBERS = 20;
const BURST = 10;
/** How long the test waits for the whole burst before it fails: a hang, not a speed bound. */
const GIVE_UP_MS = 120_000;

// The pause before a throttled post's repost and those between the resync frame's rounds (a second to half a minute
// on AWS) last 20 ms a second: what the test counts is what arrives, not when. Retry pauses keep real time.
const testCloud = libraryCloud(
  {},
  { stepFunctionsTestClock: { msPerSecond: 20, states: ['WaitToRepost', 'WaitToResync'] } },
);
const { clients } = testCloud;

afterEach(() => {
  testCloud.cloud.gateway.setFaults({ faultThrottle: 0 });
  for (const c of clients.splice(0)) c.close();
});

interface Member {
  chat: RoomcastClient;
  seqs: Set<number>;
}

function member(username: string): Member {
  const chat = libraryClient(testCloud.cloud.wsUrl, username, clients);
  const m: Member = { chat, seqs: new Set() };
  chat.on('message', (message: MessageFrame) => void m.seqs.add(message.seq));
  return m;
}

const until = waitFor;

it.each([0.3, 0.5])(
  'with %p of posts answered 429, every member of a 20-member room has all 10 messages of a burst with no next message',
  async (share) => {
    const members = Array.from({ length: MEMBERS }, (_, i) => member(`m${share * 10}-${i}`));
    await Promise.all(members.map((m) => m.chat.ready(60_000)));
    const owner = members[0] as Member;
    const { roomId } = await owner.chat.createRoom();
    for (const m of members.slice(1)) await m.chat.join(roomId);
    // One message without faults, so the functions on the path are warm and every member holds seq 1.
    await owner.chat.send('warm');
    expect(await until(() => members.every((m) => m.seqs.has(1)), 60_000)).toBe(true);

    testCloud.cloud.gateway.setFaults({ faultThrottle: share });
    const throttledBefore = testCloud.cloud.gateway.stats().throttled;
    const acks = (await Promise.all(
      Array.from({ length: BURST }, (_, i) => (members[i] as Member).chat.send(`burst ${i}`)),
    )) as { seq: number }[];
    const sentAt = Date.now();
    const burst = acks.map((a) => a.seq).sort((a, b) => a - b);
    expect(burst).toEqual(Array.from({ length: BURST }, (_, i) => i + 2));
    const complete = () => members.every((m) => burst.every((seq) => m.seqs.has(seq)));
    const inTime = await until(complete, GIVE_UP_MS);
    process.stdout.write(
      `[figures] ${JSON.stringify({ test: 'throttled burst', share, completeAfterMs: Date.now() - sentAt })}\n`,
    );
    const missing = members.map((m) => burst.filter((seq) => !m.seqs.has(seq)).length);
    expect({ inTime, missing }).toEqual({ inTime: true, missing: missing.map(() => 0) });
    // The fault did bite: posts were answered 429 during the burst.
    expect(testCloud.cloud.gateway.stats().throttled).toBeGreaterThan(throttledBefore);
  },
);
