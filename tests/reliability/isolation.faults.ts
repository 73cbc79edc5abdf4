import type { RoomcastClient } from '@roomcast/client';
import type { MessageFrame } from '#protocol';
import { libraryClient, libraryCloud, waitFor } from '../helpers/libraryMember';
import { recordFigures } from './world';

/**
 * One room's failure holds no other room: every post to room A's members is answered 500 for a minute
 * (ISOLATION_SECONDS) while both rooms chat. Room B's members get every message, each once and in the order sent,
 * and A's members, once the failure ends, catch up from history through their resync. B's delivery latencies (p50,
 * p99, and the healthy phase's p99 beside them) are recorded as figures, not asserted: how fast a loaded machine
 * delivers is the benchmark's business, not a test's.
 */
const SECONDS = Number(process.env.ISOLATION_SECONDS ?? 60);
const RATE_PER_ROOM = 2;
/** How long a loaded machine may take to deliver what was sent, before a wait gives up. */
const DELIVERY_WAIT_MS = 90_000;
jest.setTimeout((SECONDS + Math.min(30, SECONDS) + 330) * 1000);

const testCloud = libraryCloud();
const { clients } = testCloud;

interface Member {
  chat: RoomcastClient;
  /** Each message's text with when it arrived here, and how often. */
  arrivals: Map<string, number[]>;
  /** The texts in the order they arrived here. */
  order: string[];
}

function member(username: string): Member {
  const chat = libraryClient(testCloud.cloud.wsUrl, username, clients);
  const m: Member = { chat, arrivals: new Map(), order: [] };
  chat.on('message', (message: MessageFrame) => {
    m.arrivals.set(message.text, [...(m.arrivals.get(message.text) ?? []), Date.now()]);
    m.order.push(message.text);
  });
  return m;
}

async function roomOf(prefix: string, size: number): Promise<{ roomId: string; members: Member[] }> {
  const members = Array.from({ length: size }, (_, i) => member(`${prefix}${i}`));
  await Promise.all(members.map((m) => m.chat.ready(60_000)));
  const { roomId } = await (members[0] as Member).chat.createRoom();
  for (const m of members.slice(1)) await m.chat.join(roomId);
  return { roomId, members };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

/** Sends `count` messages from `sender` at RATE_PER_ROOM a second; each text with when it was sent. */
async function chat(sender: Member, tag: string, count: number): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const text = `${tag} ${i}`;
    sent.set(text, Date.now());
    sends.push(sender.chat.send(text));
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE_PER_ROOM));
  }
  await Promise.all(sends);
  return sent;
}

/** Every member's delivery latency of each message sent (ms); undefined where one has not arrived yet. */
const latencies = (members: Member[], sent: Map<string, number>) =>
  members.flatMap((m) =>
    [...sent].map(([text, at]) => {
      const first = m.arrivals.get(text)?.[0];
      return first === undefined ? undefined : first - at;
    }),
  );

const until = waitFor;

test(`a room whose every post fails for ${SECONDS} s delays no other room`, async () => {
  const a = await roomOf('fail', 5);
  const b = await roomOf('fine', 5);
  const bSender = b.members[0] as Member;
  const aSender = a.members[0] as Member;
  // Both rooms healthy under the same traffic: B's delivery on this machine as it is now.
  const healthyCount = Math.min(30, SECONDS) * RATE_PER_ROOM;
  const [, healthy] = await Promise.all([
    chat(aSender, 'a-healthy', healthyCount),
    chat(bSender, 'b-healthy', healthyCount),
  ]);
  expect(
    await until(() => latencies(b.members, healthy).every((l) => l !== undefined), DELIVERY_WAIT_MS),
  ).toBe(true);
  const baselineP99 = percentile(latencies(b.members, healthy) as number[], 99);

  const failing = await Promise.all(a.members.map(async (m) => (await m.chat.info()).connectionId));
  testCloud.cloud.gateway.setFaults({ faultFailConnections: failing });
  const count = SECONDS * RATE_PER_ROOM;
  const [, bSent] = await Promise.all([chat(aSender, 'a', count), chat(bSender, 'b', count)]);
  expect(await until(() => latencies(b.members, bSent).every((l) => l !== undefined), DELIVERY_WAIT_MS)).toBe(
    true,
  );
  // While A failed, each of B's members saw B's messages in the order sent.
  const sentOrder = [...bSent.keys()];
  for (const m of b.members) expect(m.order.filter((text) => bSent.has(text))).toEqual(sentOrder);
  testCloud.cloud.gateway.setFaults({ faultFailConnections: [] });

  const bLatencies = latencies(b.members, bSent) as number[];
  const p50 = percentile(bLatencies, 50);
  const p99 = percentile(bLatencies, 99);
  const repeats = b.members.reduce(
    (n, m) => n + [...bSent.keys()].filter((t) => (m.arrivals.get(t)?.length ?? 0) > 1).length,
    0,
  );
  // A's members got nothing live; once the failure ends, the next message brings each its resync.
  await aSender.chat.send('a after');
  const aCaughtUp = await until(() => a.members.every((m) => m.arrivals.size >= count + 1), 60_000);
  recordFigures(`room isolation (${SECONDS} s of failed posts in another room)`, {
    messagesPerRoom: count,
    bBaselineP99: baselineP99,
    bP50: p50,
    bP99: p99,
    bRepeats: repeats,
    aCaughtUp,
  });
  expect(repeats).toBe(0);
  expect(aCaughtUp).toBe(true);
});
