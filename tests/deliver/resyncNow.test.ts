import { post } from '#deliver/post';
import { RESYNC_PAUSES_MS, RESYNC_ROUND_PAUSES_MS } from '#deliver/resyncs';
import { postStage } from '../helpers/fanoutMachine';

/**
 * A member the repost still cannot reach (429/5xx) is told at once to fetch what it missed: its resync frame alone is
 * tried again over the next seconds (deliver/post.ts resyncNow). Only a member no try reaches is noted, for its next
 * post in the room: in a quiet room that post might never come, and the member would wait for the room's next message.
 */

const frames = [
  {
    payload: '{"type":"batch","roomId":"ROOM1","messages":[{"seq":4},{"seq":5}]}',
    firstSeq: 4,
    lastSeq: 5,
    messages: 2,
  },
];

/** A stage that answers each member 429 `refusals[member]` times, then delivers; what each got, and the notes. */
function stage(refusals: Record<string, number>) {
  const got: Record<string, string[]> = {};
  const pauses: number[] = [];
  const left = { ...refusals };
  const { deps, notes } = postStage({
    post: async (connectionId, payload) => {
      if ((left[connectionId] ?? 0) > 0) {
        left[connectionId] = (left[connectionId] ?? 0) - 1;
        return 'retry';
      }
      got[connectionId] = [...(got[connectionId] ?? []), payload];
      return 'delivered';
    },
    postsPerSecond: 1000,
    pause: async (ms) => void pauses.push(ms),
  });
  return { deps, got, notes, pauses, left };
}

it('tells a member the repost could not reach to resync from the seq before its first missed message, without a note', async () => {
  // Refused on the repost and on two tries of its resync frame, then reached.
  const s = stage({ ann: 3 });
  const report = await post(s.deps, { op: 'post', roomId: 'ROOM1', frames, retry: { ann: 0, bob: 0 } });
  expect(report.retrying).toBe(false);
  expect(s.got.bob).toEqual([frames[0]?.payload]);
  expect(s.got.ann?.map((p) => JSON.parse(p))).toEqual([{ type: 'resync', roomId: 'ROOM1', afterSeq: 3 }]);
  expect(s.notes).toEqual([]);
  expect(s.pauses).toEqual(RESYNC_PAUSES_MS.slice(0, 3));
});

it('notes a member that no try reaches, and stops trying after the last pause', async () => {
  const s = stage({ ann: 1000 });
  await post(s.deps, { op: 'post', roomId: 'ROOM1', frames, retry: { ann: 0 } });
  expect(s.got.ann).toBeUndefined();
  expect(s.notes).toEqual(['ann']);
  expect(s.pauses).toEqual(RESYNC_PAUSES_MS);
});

it('does not try a resync frame on a first attempt: that member goes to the repost', async () => {
  const s = stage({ ann: 1 });
  const report = await post(s.deps, { op: 'post', roomId: 'ROOM1', frames, connectionIds: ['ann'] });
  expect(report).toMatchObject({ retrying: true, retry: { ann: 0 } });
  expect(s.pauses).toEqual([]);
});

describe('a fan-out chunk hands its throttled members to the repost machine through the bus', () => {
  it('publishes a Repost event with each member and where it resumes, and answers the chunk settled', async () => {
    const s = stage({ ann: 1 });
    const published: unknown[] = [];
    s.deps.events = { publish: async (events) => void published.push(...events) };
    const report = await post(s.deps, {
      op: 'post',
      roomId: 'ROOM1',
      frames,
      connectionIds: ['ann', 'bob'],
      repostBy: 'bus',
    });
    // The execution goes on at once: no retry for its own Wait and repost.
    expect(report).toEqual({ retrying: false, waitSeconds: 2, goneIds: [] });
    expect(published).toEqual([
      expect.objectContaining({ type: 'Repost', roomId: 'ROOM1', frames, retry: { ann: 0 }, waitSeconds: 2 }),
    ]);
  });

  it('keeps the repost in the state machine when the bus refuses the event', async () => {
    const s = stage({ ann: 1 });
    s.deps.events = {
      publish: async () => {
        throw new Error('PutEvents refused');
      },
    };
    const report = await post(s.deps, {
      op: 'post',
      roomId: 'ROOM1',
      frames,
      connectionIds: ['ann'],
      repostBy: 'bus',
    });
    expect(report).toMatchObject({ retrying: true, retry: { ann: 0 } });
  });
});

describe('in the repost machine, the resync tries run in rounds a second apart, none holding an invocation', () => {
  it('returns the members a round does not reach for the next, and notes those the last round does not reach', async () => {
    const s = stage({ ann: 1000, bob: 4 });
    // The repost (round 0): both throttled again; its short tries reach neither.
    const repost = await post(s.deps, {
      op: 'post',
      roomId: 'ROOM1',
      frames,
      retry: { ann: 0, bob: 0 },
      rounds: 0,
    });
    expect(repost).toMatchObject({ resync: { ann: 3, bob: 3 }, round: 1 });
    expect(s.notes).toEqual([]);
    expect(s.pauses).toEqual(RESYNC_ROUND_PAUSES_MS.filter((ms) => ms > 0));
    // Round 1 reaches bob (its fourth refusal was the last), not ann.
    const one = await post(s.deps, {
      op: 'post',
      roomId: 'ROOM1',
      frames: [],
      resync: repost.resync,
      rounds: 1,
    });
    expect(one).toMatchObject({ resync: { ann: 3 }, round: 2 });
    const waits = [repost.resyncWaitSeconds, one.resyncWaitSeconds];
    expect(s.got.bob?.map((p) => JSON.parse(p))).toEqual([{ type: 'resync', roomId: 'ROOM1', afterSeq: 3 }]);
    // The last round notes ann.
    let last = one;
    let rounds = 2;
    while (last.resync) {
      last = await post(s.deps, {
        op: 'post',
        roomId: 'ROOM1',
        frames: [],
        resync: last.resync,
        rounds: last.round,
      });
      rounds += 1;
      if (last.resync) waits.push(last.resyncWaitSeconds);
    }
    expect(last.round).toBeUndefined();
    expect(s.notes).toEqual(['ann']);
    // Eight rounds of two tries (16 in all: at half the posts refused, 1 member in 65,536 is left to a note), their
    // waits growing from a second to half a minute, all within the repost machine's 120 s timeout.
    expect(rounds).toBe(8);
    expect(waits).toEqual([1, 1, 2, 4, 8, 15, 30]);
    // The repost of the frames, then 16 resync frames: every one refused.
    expect(1000 - (s.left.ann ?? 0)).toBe(17);
  });
});
