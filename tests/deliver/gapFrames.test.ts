import { batchFrames, FRAME_LIMIT_BYTES } from '#deliver/coalescing';
import {
  CARRIED_GAPS,
  type Clock,
  type LogEntry,
  type LogStore,
  type RoomCursor,
  readRoom,
} from '#deliver/roomLog';

/**
 * Seqs given up, as the fan-out tells members of them (docs/DECISIONS.md, "Gaps are told where members read"): a gap
 * marker (a refused send's) or a seq the fan-out fences rides the frame of the next event as `gaps`, in the same read
 * or, when no event came after it yet, in the room's next read through the cursor's `posted`; a member holding the
 * frame's events has no hole below them.
 */

const ROOM = 'R1';
const T0 = 1_800_000_000_000;
const FAR = T0 + 60_000;

/** A room's log on a stepped clock, whose cursor is saved as the machine's SaveCursor saves it after the posts. */
function room() {
  const log = new Map<number, LogEntry>();
  const counter = { seq: 0 };
  let cursor: RoomCursor | undefined = { high: 0, version: 1 };
  const clock = { t: T0 };
  let onPoll: () => void = () => undefined;
  const store: LogStore = {
    cursor: async () => cursor,
    head: async () => ({ seq: counter.seq, removed: [] }),
    storedAfter: async (_r, after, limit) =>
      [...log.values()]
        .filter((e) => e.seq > after)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit),
    fence: async (_r, seq) => {
      const there = log.get(seq);
      if (there) return there;
      log.set(seq, { seq });
      return undefined;
    },
    sleep: async (_r, seq) => counter.seq === seq,
    handOff: async () => undefined,
    itemOf: (roomId, high, read, nowSeconds) => ({
      key: `fanout-cursor#${roomId}`,
      high: String(high),
      read: String(read?.version ?? 0),
      next: String((read?.version ?? 0) + 1),
      ttl: String(nowSeconds + 60),
    }),
  };
  const stepped: Clock = {
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
      onPoll();
    },
  };
  const send = (text = 'hi') => {
    const seq = ++counter.seq;
    log.set(seq, { seq, payload: JSON.stringify({ type: 'message', roomId: ROOM, seq, text }) });
    return seq;
  };
  /** A refused send: its seq taken and marked a gap (messages/sending.ts). */
  const refused = () => {
    const seq = ++counter.seq;
    log.set(seq, { seq });
    return seq;
  };
  /**
   * One wake of the room: each cycle's read, the frames Prepare makes of its run, the cursor saved after the posts,
   * and the room read again while its log holds more (the machine's ReadRoom).
   */
  const cycle = async () => {
    const frames: Record<string, unknown>[] = [];
    for (let more = true; more; ) {
      const read = await readRoom(ROOM, [], store, FAR, stepped);
      const save = read.save;
      if (save) cursor = { high: Number(save.high), posted: Number(save.posted), version: Number(save.next) };
      frames.push(
        ...batchFrames(ROOM, read.run).map((f) => JSON.parse(f.payload) as Record<string, unknown>),
      );
      more = read.more;
    }
    return frames;
  };
  return {
    send,
    refused,
    cycle,
    take: () => ++counter.seq,
    onPoll: (f: () => void) => {
      onPoll = f;
    },
  };
}

it("a refused send's seq rides the frame of the message after it, in the same read", async () => {
  const r = room();
  r.send();
  const gap = r.refused();
  r.send();
  r.send();
  const [frame, ...more] = await r.cycle();
  expect(more).toEqual([]);
  expect(frame).toMatchObject({ type: 'batch', gaps: [gap] });
  const inside = (frame as { messages: { seq: number }[] }).messages;
  expect(inside.map((m) => m.seq)).toEqual([1, 3, 4]);
});

it('a gap after the last message of a read is told with the next message, through the cursor', async () => {
  const r = room();
  r.send();
  await r.cycle();
  const gaps = [r.refused(), r.refused()];
  // The refused sends woke the room: a cycle with nothing to post, and no frame for the gaps alone.
  expect(await r.cycle()).toEqual([]);
  const next = r.send('later');
  const [frame, ...more] = await r.cycle();
  expect(more).toEqual([]);
  // A lone message keeps its own frame, with the gaps below it.
  expect(frame).toMatchObject({ type: 'message', seq: next, text: 'later', gaps });
  // Told once: the next frame carries none.
  r.send();
  const [after] = await r.cycle();
  expect(after).not.toHaveProperty('gaps');
});

it('a seq the fan-out fences is told as a gap on the frame of what follows it', async () => {
  const r = room();
  r.send();
  const lost = r.take(); // its sender died between its take and its put
  const next = r.send();
  let polled = 0;
  r.onPoll(() => {
    polled++;
  });
  // The first cycle posts what came before the missing seq; the read after it waits for the seq, fences it after
  // HOLE_PASS_MS and posts what follows with it.
  const [first, fenced, ...more] = await r.cycle();
  expect(more).toEqual([]);
  expect(first).toMatchObject({ type: 'message', seq: 1 });
  expect(first).not.toHaveProperty('gaps');
  expect(polled).toBeGreaterThan(0);
  expect(fenced).toMatchObject({ type: 'message', seq: next, gaps: [lost] });
});

it('a long run of gaps is told up to CARRIED_GAPS of them, the ones right below the message', async () => {
  const r = room();
  r.send();
  await r.cycle();
  const gaps = Array.from({ length: CARRIED_GAPS + 5 }, () => r.refused());
  await r.cycle();
  r.send();
  const [frame] = await r.cycle();
  expect(frame?.gaps).toEqual(gaps.slice(-CARRIED_GAPS));
});

it('a batch with gaps stays within FRAME_LIMIT_BYTES: gaps count in its size', () => {
  const payload = (seq: number) =>
    JSON.stringify({ type: 'message', roomId: ROOM, seq, text: 'x'.repeat(3_000) });
  const entries: LogEntry[] = [];
  let seq = 0;
  // Ten events of ~3 KB, each after 300 gaps of 6-digit seqs (~2 KB of gaps a message).
  for (let i = 0; i < 10; i++) {
    for (let g = 0; g < 300; g++) entries.push({ seq: 100_000 + ++seq });
    seq++;
    entries.push({ seq: 100_000 + seq, payload: payload(100_000 + seq) });
  }
  const frames = batchFrames(ROOM, entries);
  expect(frames.length).toBeGreaterThan(1);
  for (const frame of frames)
    expect(Buffer.byteLength(frame.payload, 'utf8')).toBeLessThanOrEqual(FRAME_LIMIT_BYTES);
  // Every gap told once, with the frame of the event above it.
  const told = frames.flatMap((f) => (JSON.parse(f.payload) as { gaps?: number[] }).gaps ?? []);
  expect(told).toEqual(entries.filter((e) => e.payload === undefined).map((e) => e.seq));
  // A member that misses a frame is owed from below its lowest gap.
  for (const frame of frames) {
    const lowestGap = (JSON.parse(frame.payload) as { gaps: number[] }).gaps[0];
    expect(frame.firstSeq).toBe(lowestGap);
  }
});
