import type { MessageFrame } from '#protocol';
import { RoomcastError } from '../../client/errors';
import { HOLE_WAIT_MS, JOIN_RETRY, RoomSession } from '../../client/session';
import type { SessionEvents } from '../../client/types';
import { fakeRequester } from '../helpers/fakeRequester';
import { messageFrame } from './messageFrame';

/**
 * The room session (client/session.ts) alone on Jest's fake clock, with requests answered by a script: join with
 * the invite key, messages that come before the `joined` reply, gap filling through history, and a resume into a
 * room that has expired.
 */
jest.useFakeTimers();
afterEach(() => jest.clearAllTimers());

const msg = messageFrame;

function session(answer: (frame: Record<string, unknown>) => Record<string, unknown> | Promise<never>) {
  const requests: Array<Record<string, unknown>> = [];
  const delivered: number[] = [];
  const errors: string[] = [];
  const rooms: string[] = [];
  const s = new RoomSession(
    {
      request: fakeRequester(async (frame) => {
        requests.push(frame);
        await new Promise((resolve) => setTimeout(resolve, 10)); // a round trip
        return answer(frame);
      }),
      emit: <K extends keyof SessionEvents>(event: K, value: SessionEvents[K]) => {
        if (event === 'message') delivered.push((value as MessageFrame).seq);
        if (event === 'error') errors.push((value as RoomcastError).code);
        if (event === 'room') rooms.push((value as { roomId: string }).roomId);
      },
    },
    { initialHistory: 50, lean: false },
  );
  return { s, requests, delivered, errors, rooms };
}

it('joins with the invite key; messages that arrive before the reply are delivered after its history, once, in order', async () => {
  const { s, requests, delivered } = session((frame) =>
    frame.action === 'joinroom'
      ? {
          type: 'joined',
          roomId: 'ABCDEF',
          lastSeq: 3,
          inviteKey: 'k'.repeat(16),
          history: [msg('ABCDEF', 2)],
        }
      : { type: 'history', messages: [msg('ABCDEF', 3)] },
  );
  const joining = s.requestJoin('ABCDEF', 'k'.repeat(16));
  expect(s.state).toBe('joining');
  s.onMessages([msg('ABCDEF', 4)]); // fan-out overtook the reply
  s.onMessages([msg('ABCDEF', 3)]);
  await jest.advanceTimersByTimeAsync(10);
  s.enter(await joining);
  expect(requests[0]).toEqual({ action: 'joinroom', roomId: 'ABCDEF', key: 'k'.repeat(16) });
  expect(s.state).toBe('steady');
  expect(s.inviteKey).toBe('k'.repeat(16));
  expect(delivered).toEqual([2, 3, 4]);
  expect(s.lastSeq).toBe(4);
});

it('a gap is filled through history, one fill at a time, and a hole the history does not have is skipped after a wait, once', async () => {
  let pages = 0;
  const { s, requests, delivered } = session((frame) => {
    if (frame.action === 'joinroom')
      return { type: 'joined', roomId: 'ABCDEF', lastSeq: 1, history: [msg('ABCDEF', 1)] };
    pages += 1;
    return { type: 'history', messages: [msg('ABCDEF', 2)] }; // seq 3 was never stored (a gap), or has expired
  });
  const joining = s.requestJoin('ABCDEF');
  await jest.advanceTimersByTimeAsync(10);
  s.enter(await joining);
  s.onMessages([msg('ABCDEF', 4)]);
  expect(s.state).toBe('filling');
  // Still a gap: no second request while one runs. But seq 5 may have been stored after the page was read, and so
  // may the hole below it: the fill reads once more before it waits for the hole.
  s.onMessages([msg('ABCDEF', 5)]);
  expect(requests.filter((r) => r.action === 'history')).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(20);
  expect(pages).toBe(2);
  // A seq is taken before its message is stored: seq 3 may land a moment later. Nothing is skipped yet.
  expect(delivered).toEqual([1, 2]);
  await jest.advanceTimersByTimeAsync(HOLE_WAIT_MS);
  // History asked once more after the wait, then the hole is passed: no request loop over a gap.
  expect(requests.filter((r) => r.action === 'history').map((r) => r.afterSeq)).toEqual([1, 2, 2]);
  expect(delivered).toEqual([1, 2, 4, 5]);
  expect(s.state).toBe('steady');
  await jest.advanceTimersByTimeAsync(10 * HOLE_WAIT_MS);
  expect(requests.filter((r) => r.action === 'history')).toHaveLength(3);
});

it('a message stored a moment after a later one is delivered in its place, not skipped', async () => {
  let stored3 = false;
  const { s, delivered } = session((frame) => {
    if (frame.action === 'joinroom')
      return { type: 'joined', roomId: 'ABCDEF', lastSeq: 2, history: [msg('ABCDEF', 1), msg('ABCDEF', 2)] };
    return { type: 'history', messages: stored3 ? [msg('ABCDEF', 3), msg('ABCDEF', 4)] : [msg('ABCDEF', 4)] };
  });
  const joining = s.requestJoin('ABCDEF');
  await jest.advanceTimersByTimeAsync(10);
  s.enter(await joining);
  s.onMessages([msg('ABCDEF', 4)]);
  await jest.advanceTimersByTimeAsync(50);
  expect(delivered).toEqual([1, 2]);
  stored3 = true;
  await jest.advanceTimersByTimeAsync(HOLE_WAIT_MS);
  expect(delivered).toEqual([1, 2, 3, 4]);
});

it('resuming into a room that has expired reports ROOM_NOT_FOUND and moves to the lobby with its history', async () => {
  const { s, errors, rooms, delivered } = session((frame) => {
    if (frame.action === 'joinroom') return Promise.reject(new RoomcastError('ROOM_NOT_FOUND', 'gone'));
    if (frame.action === 'history') return { type: 'history', messages: [msg('lobby', 8), msg('lobby', 9)] };
    return { type: 'joined', roomId: 'ABCDEF', lastSeq: 0 };
  });
  // First in a room: a create answers with its code.
  const created = s.requestJoin(undefined);
  await jest.advanceTimersByTimeAsync(10);
  s.enter({ type: 'joined', roomId: 'ABCDEF', lastSeq: 0 } as never);
  void created.catch(() => {});
  const resuming = s.resume();
  await jest.advanceTimersByTimeAsync(30);
  await resuming;
  expect(errors).toEqual(['ROOM_NOT_FOUND']);
  expect(s.roomId).toBe('lobby');
  expect(rooms).toEqual(['ABCDEF', 'lobby']);
  expect(delivered).toEqual([8, 9]);
  expect(s.state).toBe('steady');
});

it('a join the server answered BUSY is asked again until it enters; a create answered BUSY is not repeated', async () => {
  let busy = 2;
  const { s, requests } = session(() => {
    if (busy > 0) {
      busy -= 1;
      return Promise.reject(new RoomcastError('BUSY', 'The chat is busy right now.'));
    }
    return { type: 'joined', roomId: 'ABCDEF', lastSeq: 0, history: [] };
  });
  const joining = s.requestJoin('ABCDEF', 'k'.repeat(16));
  await jest.advanceTimersByTimeAsync(5_000); // two round trips, two waits of at most 250 and 500 ms, one more trip
  s.enter(await joining);
  expect(requests.map((r) => r.action)).toEqual(['joinroom', 'joinroom', 'joinroom']);
  expect(s.roomId).toBe('ABCDEF');

  busy = 1;
  const creating = s.requestJoin(undefined);
  const refused = expect(creating).rejects.toMatchObject({ code: 'BUSY' });
  await jest.advanceTimersByTimeAsync(5_000);
  await refused;
  // (The quiet room's one `history` after entering comes in between: docs/CLIENT.md, "Guarantees".)
  expect(requests.map((r) => r.action).filter((a) => a !== 'history')).toEqual([
    'joinroom',
    'joinroom',
    'joinroom',
    'createroom',
  ]);
});

it('a join answered BUSY every time gives up after JOIN_RETRY.maxAttempts and says BUSY', async () => {
  const { s, requests } = session(() => Promise.reject(new RoomcastError('BUSY', 'busy')));
  const joining = s.requestJoin('ABCDEF');
  const refused = expect(joining).rejects.toMatchObject({ code: 'BUSY' });
  await jest.advanceTimersByTimeAsync(20_000);
  await refused;
  expect(requests).toHaveLength(JOIN_RETRY.maxAttempts);
  expect(s.state).toBe('steady');
});

it("a followed room's messages are `otherroom` events, never the shown room's `message` events", async () => {
  const others: Array<{ roomId: string; seqs: number[] }> = [];
  const delivered: number[] = [];
  const s = new RoomSession(
    {
      request: fakeRequester(async () => ({
        type: 'joined',
        roomId: 'ABCDEF',
        lastSeq: 1,
        history: [msg('ABCDEF', 1)],
      })),
      emit: <K extends keyof SessionEvents>(event: K, value: SessionEvents[K]) => {
        if (event === 'message') delivered.push((value as MessageFrame).seq);
        if (event === 'otherroom') {
          const other = value as SessionEvents['otherroom'];
          others.push({ roomId: other.roomId, seqs: other.events.map((e) => e.seq) });
        }
      },
    },
    { initialHistory: 50, lean: false },
  );
  s.enter(await s.requestJoin('ABCDEF'));
  s.onMessages([msg('GHJKLM', 7), msg('GHJKLM', 8)]); // a batch of the room shown before
  s.onMessages([msg('ABCDEF', 2)]);
  expect(delivered).toEqual([1, 2]);
  expect(others).toEqual([{ roomId: 'GHJKLM', seqs: [7, 8] }]);
});
