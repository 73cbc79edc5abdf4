import type { MessageFrame } from '#protocol';
import { Sequencer } from '../../client/sequencer';
import { HOLE_WAIT_MS, RoomSession } from '../../client/session';
import type { SessionEvents } from '../../client/types';
import { fakeRequester } from '../helpers/fakeRequester';
import { messageFrame } from './messageFrame';

/**
 * Seqs the server gave up (`gaps` on a frame or a `history` page: docs/PROTOCOL.md, "Ordering, gaps and retries")
 * count as delivered: the message above one is handed over at once, with no hole wait and no `history` read.
 */
jest.useFakeTimers();
afterEach(() => jest.clearAllTimers());

const ROOM = 'ABCDEF';
const msg = (seq: number) => messageFrame(ROOM, seq);

function sequencer() {
  const handed: { seq: number; late: boolean }[] = [];
  let now = 0;
  const s = new Sequencer(
    (event, late) => handed.push({ seq: event.seq, late }),
    () => now,
  );
  return { s, handed, tick: (ms: number) => (now += ms) };
}

describe('Sequencer', () => {
  it('hands over the message above a seq given up at once: no hole, nothing handed for the gap', () => {
    const { s, handed } = sequencer();
    s.setBaseline(1);
    s.pass([2, 3]);
    s.accept(msg(4));
    expect(handed).toEqual([{ seq: 4, late: false }]);
    expect(s.lastSeq).toBe(4);
    expect(s.hasGap).toBe(false);
  });

  it('takes the gaps after the message that waits above them, and then has no hole', () => {
    const { s, handed, tick } = sequencer();
    s.setBaseline(1);
    s.accept(msg(3));
    tick(500);
    expect(s.hasGap).toBe(true);
    s.pass([2]);
    expect(handed.map((h) => h.seq)).toEqual([3]);
    expect(s.hasGap).toBe(false);
    expect(s.holeAgeMs).toBe(0);
  });

  it('stops looking for a skipped seq once told it was given up, and a copy of a delivered seq stays a duplicate', () => {
    const { s, handed } = sequencer();
    s.setBaseline(1);
    s.accept(msg(4));
    s.skipHole(); // 2 and 3 skipped: a late one would be handed over
    expect(s.lowestSkipped).toBe(2);
    s.pass([2, 4]);
    expect(s.lowestSkipped).toBe(3);
    expect(s.accept(msg(4))).toBe(false);
    expect(handed.map((h) => h.seq)).toEqual([4]);
  });

  it('ignores what is no seq', () => {
    const { s, handed } = sequencer();
    s.setBaseline(1);
    s.pass([0, -2, 2.5, '2', Number.NaN]);
    s.accept(msg(3));
    expect(handed).toEqual([]);
    expect(s.hasGap).toBe(true);
  });
});

describe('RoomSession', () => {
  function session(page: (query: Record<string, unknown>) => Record<string, unknown>) {
    const requests: Record<string, unknown>[] = [];
    const delivered: MessageFrame[] = [];
    const s = new RoomSession(
      {
        request: fakeRequester(async (frame) => {
          requests.push(frame);
          await new Promise((resolve) => setTimeout(resolve, 10));
          return frame.action === 'joinroom'
            ? { type: 'joined', roomId: ROOM, lastSeq: 1, history: [msg(1)] }
            : page(frame);
        }),
        emit: <K extends keyof SessionEvents>(event: K, value: SessionEvents[K]) => {
          if (event === 'message') delivered.push(value as MessageFrame);
        },
      },
      { initialHistory: 50, lean: false },
    );
    return { s, requests, delivered, histories: () => requests.filter((r) => r.action === 'history') };
  }

  async function entered(page: (query: Record<string, unknown>) => Record<string, unknown>) {
    const world = session(page);
    const joining = world.s.requestJoin(ROOM);
    await jest.advanceTimersByTimeAsync(10);
    world.s.enter(await joining);
    return world;
  }

  it("a message frame's gaps: the message is delivered at once, without them, and history is never asked", async () => {
    const { s, delivered, histories } = await entered(() => ({ type: 'history', messages: [] }));
    // Seq 2 was a send refused by slow mode; the fan-out tells it on the frame of seq 3.
    expect(s.onRoomFrame({ ...msg(3), gaps: [2] })).toBe(true);
    expect(delivered.map((m) => m.seq)).toEqual([1, 3]);
    expect(delivered[1]).not.toHaveProperty('gaps');
    expect(s.state).toBe('steady');
    await jest.advanceTimersByTimeAsync(10 * HOLE_WAIT_MS);
    expect(histories()).toEqual([]);
  });

  it("a batch's gaps are passed the same way", async () => {
    const { s, delivered, histories } = await entered(() => ({ type: 'history', messages: [] }));
    s.onRoomFrame({ type: 'batch', roomId: ROOM, messages: [msg(3), msg(5)], gaps: [2, 4] });
    expect(delivered.map((m) => m.seq)).toEqual([1, 3, 5]);
    await jest.advanceTimersByTimeAsync(10 * HOLE_WAIT_MS);
    expect(histories()).toEqual([]);
  });

  it('a history page that lists a gap ends the fill: no wait and no second read for it', async () => {
    // Seq 2 and 3 missed (a resync); history has 3, and says 2 was given up.
    const { s, delivered, histories } = await entered((q) => ({
      type: 'history',
      roomId: ROOM,
      messages: q.afterSeq === 1 ? [msg(3)] : [],
      hasMore: false,
      gaps: [2],
    }));
    s.onRoomFrame({ type: 'resync', roomId: ROOM, afterSeq: 1 });
    await jest.advanceTimersByTimeAsync(20);
    expect(delivered.map((m) => m.seq)).toEqual([1, 3]);
    expect(s.state).toBe('steady');
    await jest.advanceTimersByTimeAsync(10 * HOLE_WAIT_MS);
    expect(histories().map((r) => r.afterSeq)).toEqual([1]);
  });

  it('without gaps, the same hole costs history reads and a wait (what the field saves)', async () => {
    const { s, delivered, histories } = await entered(() => ({
      type: 'history',
      messages: [],
      hasMore: false,
    }));
    s.onRoomFrame(msg(3));
    await jest.advanceTimersByTimeAsync(20);
    expect(delivered.map((m) => m.seq)).toEqual([1]);
    await jest.advanceTimersByTimeAsync(HOLE_WAIT_MS);
    expect(delivered.map((m) => m.seq)).toEqual([1, 3]);
    // One at the hole and one after the wait (and the quiet-room check, the last seq not having moved meanwhile).
    expect(histories().length).toBeGreaterThanOrEqual(2);
  });
});
