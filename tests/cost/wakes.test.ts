import { ROOM_TURN_MS } from '#deliver/roomLog';
import { DEFAULT_ASSUMPTIONS, DEFAULT_WORKLOAD, estimate, type Workload } from '../../tools/cost/model';
import { spells } from '../../tools/cost/wakes';

const base = { cycles: 1_000, messagesPerSecond: 0, takeToStoreMs: 10, cycleMs: 100, turnMs: 2_000 };

describe('wakes, spells and hand-offs from the cycles', () => {
  test('a quiet room: every read ends its spell, so each cycle is one wake, one execution, one sleep', () => {
    const s = spells(base);
    expect(s.awakeShare).toBe(0);
    expect(s.cyclesPerExecution).toBe(1);
    expect(s.executions).toBe(1_000);
    expect(s.wakes).toBe(1_000);
    expect(s.spells).toBe(1_000);
    expect(s.handOffs).toBe(0);
  });

  test('a read finds a seq taken and not stored with probability 1 - e^(-r·g): 100/s, 10 ms gap', () => {
    const s = spells({ ...base, messagesPerSecond: 100, cycleMs: 1_000 });
    const p = 1 - Math.exp(-1);
    expect(s.awakeShare).toBeCloseTo(p, 12);
    // A turn of 2 s with 1 s cycles: reads at 0, 1 and 2 s, the last at the turn's end: 3 cycles at most.
    expect(s.cyclesPerTurn).toBe(3);
    // Cycles per execution: 1 + p + p² (the run stops at its first sleep, or after the turn's 3 reads).
    expect(s.cyclesPerExecution).toBeCloseTo(1 + p + p * p, 12);
    expect(s.executions).toBeCloseTo(1_000 / (1 + p + p * p), 9);
    // The executions whose three reads all found more hand the room on; the rest end a spell with a sleep.
    expect(s.handOffs).toBeCloseTo(s.executions * p ** 3, 9);
    expect(s.spells).toBeCloseTo(s.executions * (1 - p ** 3), 9);
    expect(s.wakes).toBeCloseTo(s.spells + s.handOffs, 9);
  });

  test('a room always being written to: one wake per turn, its cycles back to back', () => {
    // 1,000/s and a 10 ms gap: e^-10 of reads find nothing being stored; a turn of 2 s at 100 ms is 21 reads.
    const s = spells({ ...base, messagesPerSecond: 1_000 });
    expect(s.cyclesPerTurn).toBe(ROOM_TURN_MS / 100 + 1);
    expect(s.cyclesPerExecution).toBeGreaterThan(20.9);
    expect(s.handOffs / s.executions).toBeGreaterThan(0.99);
    // A wake per turn: 1,000 cycles of 100 ms are 100 s, 50 turns of 2 s (each turn's reads: 0 to 2 s inclusive).
    expect(s.wakes).toBeCloseTo(1_000 / 21, 0);
  });
});

describe('the wakes in the monthly estimate', () => {
  const hot = (roomSize: number, perSecond: number): Workload => ({
    roomSize,
    rooms: 1,
    messagesPerDay: perSecond * 86_400,
    connections: roomSize,
    days: 30,
    messageBytes: 200,
  });
  const line = (r: ReturnType<typeof estimate>, part: string) => {
    const found = r.designs.roomcast.items.find((i) => i.component.startsWith(part));
    if (!found) throw new Error(`no roomcast line starting "${part}"`);
    return found.quantity;
  };

  test('a busy room: wakes, executions and sleeps per spell and turn, reads and SaveCursor per cycle', () => {
    const r = estimate(hot(100, 300), { ...DEFAULT_ASSUMPTIONS, fanoutCycleMs: 100 });
    const { work } = r;
    const s = spells({
      cycles: work.cycles,
      messagesPerSecond: 300,
      takeToStoreMs: DEFAULT_ASSUMPTIONS.takeToStoreMs,
      cycleMs: 100,
      turnMs: ROOM_TURN_MS,
    });
    expect(work.executions).toBeCloseTo(s.executions, 6);
    // 300/s with 100 ms cycles: 30 messages a cycle, one frame each; far fewer wakes than messages.
    expect(work.cycles).toBeCloseTo(r.messagesPerMonth / r.delivery.messagesPerPost, 3);
    expect(line(r, 'RoomWake events')).toBeCloseTo(s.wakes, 3);
    expect(line(r, 'RoomWake events')).toBeLessThan(r.messagesPerMonth / 100);
    expect(line(r, 'Pipes requests')).toBeCloseTo(s.wakes, 3);
    expect(line(r, 'FIFO fan-out queue')).toBeCloseTo(s.wakes + 2 * s.executions, 3);
    expect(line(r, 'Express requests')).toBeCloseTo(s.executions, 3);
    expect(line(r, 'sleep')).toBeCloseTo(s.spells, 3);
    expect(line(r, 'hand-offs')).toBeCloseTo(s.handOffs, 3);
    expect(line(r, "the room's fan-out cursor (SaveCursor")).toBeCloseTo(work.cycles, 3);
    // Per cycle: a read of the room (Prepare, then ReadRoom) and the room's one chunk.
    expect(line(r, 'Deliver requests')).toBeCloseTo(2 * work.cycles, 3);
    // Strong reads per cycle: cursor 1 + seq 1 + the log's 30 messages of 400 B (12,000 B: 3 x 4 KB).
    expect(r.delivery.messagesPerPost).toBeCloseTo(30 + Math.exp(-30), 9);
    expect(line(r, 'reads of the room')).toBeCloseTo(work.cycles * (1 + 1 + 3), 3);
  });

  test('a cycle takes what the log holds, up to one 32 KB frame a post: more than the pipe batch of 10', () => {
    const wakes = estimate(hot(100, 300), { ...DEFAULT_ASSUMPTIONS, fanoutCycleMs: 1_000 });
    const queued = estimate(hot(100, 300), {
      ...DEFAULT_ASSUMPTIONS,
      fanoutCycleMs: 1_000,
      fanoutQueue: 'events',
    });
    expect(queued.delivery.maxBatch).toBe(DEFAULT_ASSUMPTIONS.pipeBatchSize);
    expect(queued.delivery.messagesPerPost).toBe(10);
    // 300 a cycle, capped by what one frame holds (87 frames of 373 B in 32 KB).
    expect(wakes.delivery.maxBatch).toBe(87);
    expect(wakes.delivery.messagesPerPost).toBe(87);
  });

  test('a seq never stored is fenced by one PutItem', () => {
    const r = estimate(hot(100, 1), { ...DEFAULT_ASSUMPTIONS, unstoredSeqShare: 0.01 });
    expect(line(r, 'fences')).toBeCloseTo(0.01 * r.messagesPerMonth, 6);
    expect(line(estimate(hot(100, 1)), 'fences')).toBe(0);
  });

  test('a throttled chunk goes to the repost machine: one Repost entry, one execution, one Deliver', () => {
    const share = 0.1;
    const plain = estimate(hot(250, 1));
    const r = estimate(hot(250, 1), { ...DEFAULT_ASSUMPTIONS, throttledChunkShare: share });
    // 250 members: 3 chunks a cycle.
    const reposts = r.work.cycles * 3 * share;
    expect(r.work.reposts).toBeCloseTo(reposts, 6);
    expect(line(r, 'Repost events')).toBeCloseTo(reposts, 6);
    expect(line(r, 'repost executions')).toBeCloseTo(reposts, 6);
    expect(line(r, 'Deliver requests') - line(plain, 'Deliver requests')).toBeCloseTo(reposts, 3);
    // The execution waits REPOST_WAIT_SECONDS (2 s) and reposts: 2,050 ms -> 2,100 ms x 64 MB each.
    expect(line(r, 'repost duration')).toBeCloseTo(reposts * 2.1 * (64 / 1024), 6);
  });

  test('every event queued: a queue message and a Pipes request per message, no wake, no sleep', () => {
    const r = estimate(hot(100, 0.01), { ...DEFAULT_ASSUMPTIONS, fanoutQueue: 'events' });
    const M = r.messagesPerMonth;
    expect(line(r, 'FIFO fan-out queue')).toBeCloseTo(M + 2 * r.work.cycles, 6);
    expect(line(r, 'Pipes requests')).toBe(M);
    expect(r.work.wakes).toBe(0);
    const components = r.designs.roomcast.items.map((i) => i.component);
    expect(components.some((c) => c.startsWith('RoomWake') || c.startsWith('sleep'))).toBe(false);
  });

  test('at the default traffic a message costs more with wakes: a wake entry, two strong reads, a sleep', () => {
    const wakes = estimate(DEFAULT_WORKLOAD);
    const queued = estimate(DEFAULT_WORKLOAD, { ...DEFAULT_ASSUMPTIONS, fanoutQueue: 'events' });
    expect(wakes.work.wakes / wakes.messagesPerMonth).toBeGreaterThan(0.999);
    expect(wakes.designs.roomcast.usdPerMillionMessages).toBeGreaterThan(
      queued.designs.roomcast.usdPerMillionMessages,
    );
    // Less than 3% more: the posts are most of the bill.
    expect(wakes.designs.roomcast.usdPerMillionMessages).toBeLessThan(
      1.03 * queued.designs.roomcast.usdPerMillionMessages,
    );
  });

  test('a hot room costs less with wakes: the queue, pipe and executions no longer grow with its messages', () => {
    const wakes = estimate(hot(100, 300));
    const queued = estimate(hot(100, 300), { ...DEFAULT_ASSUMPTIONS, fanoutQueue: 'events' });
    expect(line(wakes, 'FIFO fan-out queue')).toBeLessThan(0.01 * line(queued, 'FIFO fan-out queue'));
    expect(wakes.designs.roomcast.totalUsd).toBeLessThan(queued.designs.roomcast.totalUsd);
  });
});
