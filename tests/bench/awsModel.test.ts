import {
  DEFAULT_SETTINGS,
  type ModelRun,
  type RoomMark,
  type RoomRun,
  runModel,
} from '../../tools/bench/awsModel';
import { AWS, type AwsProfile } from '../../tools/local/awsProfile';

/**
 * The model of the fan-out on AWS (tools/bench/awsModel.ts): its quotas refuse what AWS would, a group never has two
 * batches in flight, the `wake` design wakes a room once per awake spell and hands a busy one on every turn, a seed
 * gives the same run, and a slower hop shows in the latency. Simulated seconds: each run takes well under a real one.
 */

const run = (over: Partial<ModelRun> & Pick<ModelRun, 'design' | 'scenario'>) =>
  runModel({ profile: AWS, seed: 7, drainSeconds: 30, ...over });

const turnMs = DEFAULT_SETTINGS.turnMs;

/** Each room's entries, in the order they came. */
function byRoom<T extends { room: number }>(entries: T[]): Map<number, T[]> {
  const rooms = new Map<number, T[]>();
  for (const e of entries) rooms.set(e.room, [...(rooms.get(e.room) ?? []), e]);
  return rooms;
}

describe('the fan-out model on AWS', () => {
  // 40 rooms at 10 messages/s: 400 room events a second, stack-wide.
  const busyStack = { name: 'stack-400', rooms: 40, members: 2, rate: 10, seconds: 3 };

  test("one queue message per room event meets the queue's 300 SendMessage/s; the wakes meet no quota", () => {
    const queue = run({ design: 'queue', scenario: busyStack });
    expect(queue.queueSendMessagePerSecond).toBeGreaterThan(AWS.quotas.sqsFifoCallsPerQueue.value);
    expect(queue.refusals.sendMessage).toBeGreaterThan(0);
    // Refused calls are EventBridge's to retry.
    expect(queue.outcomes.eventRetries).toBeGreaterThan(0);

    const wake = run({ design: 'wake', scenario: busyStack });
    expect(wake.refusals).toEqual({
      routeSends: 0,
      personSends: 0,
      connectionSends: 0,
      apiGatewaySends: 0,
      lambdaSends: 0,
      apiGatewayPosts: 0,
      dynamodbKey: 0,
      dynamodbTable: 0,
      putEvents: 0,
      sendMessage: 0,
    });
    expect(wake.outcomes.busySends).toBe(0);
    // Fewer wakes than messages: a wake covers every message of its spell.
    expect(wake.wakes.byTakes + wake.wakes.handOffs).toBeLessThan(wake.sent);
    expect(wake.missing).toBe(0);
    expect(wake.duplicated).toBe(0);
    expect(wake.delivered).toBe(wake.sent * busyStack.members);
  });

  test('a message group never has two batches in flight', () => {
    for (const design of ['queue', 'wake'] as const) {
      const inFlight = new Map<number, { receivedAt: number; releasedAt: number }[]>();
      run({
        design,
        scenario: { name: 'groups', rooms: 5, members: 3, rate: 60, seconds: 3 },
        onBatch: (b) => {
          for (const room of b.rooms) inFlight.set(room, [...(inFlight.get(room) ?? []), b]);
        },
      });
      expect(inFlight.size).toBe(5);
      for (const batches of inFlight.values()) {
        const sorted = [...batches].sort((a, b) => a.receivedAt - b.receivedAt);
        expect(sorted.length).toBeGreaterThan(1);
        for (let i = 1; i < sorted.length; i++) {
          const previous = sorted[i - 1] as { releasedAt: number };
          expect((sorted[i] as { receivedAt: number }).receivedAt).toBeGreaterThanOrEqual(
            previous.releasedAt,
          );
        }
      }
    }
  });

  test("a room's executions never overlap, and a batch's rooms are held at most about a turn", () => {
    const runs: RoomRun[] = [];
    const batches: { receivedAt: number; releasedAt: number }[] = [];
    const r = run({
      design: 'wake',
      // Busy rooms: each is handed on every turn, so executions follow each other back to back.
      scenario: { name: 'busy-rooms', rooms: 6, members: 3, rate: 150, seconds: 8 },
      onRoomRun: (each) => runs.push(each),
      onBatch: (b) => batches.push(b),
    });
    expect(r.wakes.handOffs).toBeGreaterThan(6);
    expect(r.missing).toBe(0);
    for (const roomRuns of byRoom(runs).values()) {
      const sorted = [...roomRuns].sort((a, b) => a.startedAt - b.startedAt);
      expect(sorted.length).toBeGreaterThan(2);
      for (let i = 1; i < sorted.length; i++)
        expect((sorted[i] as RoomRun).startedAt).toBeGreaterThan((sorted[i - 1] as RoomRun).endedAt);
    }
    // A turn, then the last cycle's posts and the room's hand-off: never a second turn.
    for (const b of batches) expect(b.releasedAt - b.receivedAt).toBeLessThan(turnMs + 1000);
  });

  test('a quiet room is woken once per awake spell: a wake, then the sleep that ends the spell', () => {
    const marks: RoomMark[] = [];
    const scenario = { name: 'quiet', rooms: 4, members: 3, rate: 0.5, seconds: 30 };
    const r = run({ design: 'wake', scenario, onRoom: (m) => marks.push(m) });
    expect(r.wakes.handOffs).toBe(0);
    expect(r.wakes.byTakes).toBe(r.wakes.sleeps);
    // Most messages of a quiet room are a spell of their own; never more wakes than messages.
    expect(r.wakes.byTakes).toBeLessThanOrEqual(r.sent);
    expect(r.wakes.byTakes).toBeGreaterThan(r.sent / 2);
    for (const roomMarks of byRoom(marks).values()) {
      expect(roomMarks.length).toBeGreaterThan(4);
      expect(roomMarks.map((m) => m.kind)).toEqual(roomMarks.map((_, i) => (i % 2 === 0 ? 'wake' : 'sleep')));
    }
    expect(r.missing).toBe(0);
  });

  test("a busy room's wakes are one per turn: one take wakes it, then a hand-off every turn", () => {
    const marks: RoomMark[] = [];
    // A room of 200 (two index keys): a room of 20, one key and one Query a cycle, keeps up with 300 messages/s and
    // sleeps between them.
    const scenario = { name: 'busy', rooms: 1, members: 200, rate: 300, seconds: 10 };
    // The wakes alone: the room's presence events share its group (featureTraffic.test.ts counts them).
    const r = run({ design: 'wake', scenario, onRoom: (m) => marks.push(m), traffic: false });
    expect(r.wakes.byTakes).toBe(1);
    const handOffs = marks.filter((m) => m.kind === 'handOff');
    expect(handOffs.length).toBe(r.wakes.handOffs);
    // ~10 s of sending in turns of 2 s and the hop between them: 3 to 5 hand-offs.
    expect(handOffs.length).toBeGreaterThanOrEqual(3);
    expect(handOffs.length).toBeLessThanOrEqual((scenario.seconds * 1000) / turnMs);
    for (let i = 1; i < handOffs.length; i++)
      expect((handOffs[i] as RoomMark).at - (handOffs[i - 1] as RoomMark).at).toBeGreaterThanOrEqual(turnMs);
    expect(r.groupSendMessagePeak).toBe(1);
    expect(marks[marks.length - 1]?.kind).toBe('sleep');
    expect(r.missing).toBe(0);
    expect(r.p99Ms).toBeLessThan(1000);
  });

  test('a seed gives the same run; another seed another', () => {
    const scenario = { name: 'seeded', rooms: 3, members: 10, rate: 20, seconds: 2 };
    const a = run({ design: 'wake', scenario });
    expect(run({ design: 'wake', scenario })).toEqual(a);
    expect(run({ design: 'wake', scenario, seed: 8 })).not.toEqual(a);
  });

  test('a slower hop makes every message slower', () => {
    const scenario = { name: 'slow-post', rooms: 1, members: 50, rate: 20, seconds: 3 };
    const slowPosts: AwsProfile = {
      ...AWS,
      latency: { ...AWS.latency, managementPost: { ...AWS.latency.managementPost, p50: 200, p99: 400 } },
    };
    for (const design of ['queue', 'wake'] as const) {
      const base = run({ design, scenario });
      const slow = run({ design, scenario, profile: slowPosts });
      // The post's median grew by 180 ms; every member waits at least one post.
      expect(slow.p50Ms - base.p50Ms).toBeGreaterThan(120);
      expect(slow.p99Ms).toBeGreaterThan(base.p99Ms);
    }
  });

  test("posts refused past API Gateway's requests a second are reposted; only the old design waits for them", () => {
    const tight: AwsProfile = {
      ...AWS,
      quotas: {
        ...AWS.quotas,
        apiGatewayRequestsPerSecond: { ...AWS.quotas.apiGatewayRequestsPerSecond, value: 300 },
      },
    };
    const scenario = { name: 'tight', rooms: 1, members: 500, rate: 5, seconds: 3 };
    const wake = run({ design: 'wake', profile: tight, scenario });
    const queue = run({ design: 'queue', profile: tight, scenario });
    for (const r of [wake, queue]) {
      expect(r.refusals.apiGatewayPosts).toBeGreaterThan(0);
      expect(r.outcomes.reposts).toBeGreaterThan(0);
    }
    // The repost machine posts them after its wait, apart from the fan-out's execution.
    expect(wake.executionP99Ms).toBeLessThan(DEFAULT_SETTINGS.repostWaitMs);
    expect(queue.executionP99Ms).toBeGreaterThan(DEFAULT_SETTINGS.repostWaitMs);
    // A repost refused again leaves a resync note: the member's history fills the gap.
    expect(queue.outcomes.resyncNotes).toBeGreaterThan(0);
    expect(queue.missing).toBeGreaterThan(0);
  });

  test("one room's writes past 1,000 a second on its item are refused and its sends answered busy", () => {
    const r = run({
      design: 'wake',
      scenario: { name: 'hot-key', rooms: 1, members: 2, rate: 1500, seconds: 2 },
    });
    expect(r.refusals.dynamodbKey).toBeGreaterThan(0);
    expect(r.outcomes.busySends).toBeGreaterThan(0);
    // At most 1,000 seqs taken a second: the sending's 2 seconds and the one its retries spill into.
    expect(r.sent).toBeLessThanOrEqual(3 * AWS.quotas.dynamodbWcuPerKey.value);
    expect(r.sent).toBeLessThan(1500 * 2);
  });

  test('a seq taken and never stored is fenced after its watch, and the messages after it still come', () => {
    // 2 KB messages: 2 WCU each on the room's messages partition, past its 1,000 a second at 600 a second, so a few
    // stores are refused after their seq was taken.
    const r = run({
      design: 'wake',
      settings: { messageBytes: 2000 },
      scenario: { name: 'holes', rooms: 1, members: 2, rate: 600, seconds: 1 },
    });
    expect(r.outcomes.busySends).toBeGreaterThan(0);
    expect(r.wakes.fenced).toBeGreaterThan(0);
    expect(r.maxMs).toBeGreaterThan(DEFAULT_SETTINGS.holeMs);
    expect(r.missing).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.backlogAtEnd).toBe(0);
  });
});
