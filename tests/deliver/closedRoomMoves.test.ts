import { post } from '#deliver/post';
import { postStage } from '../helpers/fanoutMachine';

/**
 * A closed room's members are moved to the lobby by the fan-out's chunks (deliver/post.ts moveOutIfClosed): each
 * member the chunk names is moved first, then posted `roomclosed`, so a member told is in the lobby already; on the
 * first attempt only, whatever its post answered.
 */
const closed = {
  payload: '{"type":"roomclosed","roomId":"ROOM1","message":"Room ROOM1 was closed by its owner."}',
  lastSeq: 0,
  messages: 0,
  movesOut: '2026-11-28T22:00:00.000Z',
};

/** A stage answering each member as `answers` says (delivered by default); the posts and moves in one order. */
function stage(answers: Record<string, 'retry' | 'gone'> = {}) {
  const log: string[] = [];
  const { deps } = postStage({
    post: async (connectionId) => {
      log.push(`post ${connectionId}`);
      return answers[connectionId] ?? 'delivered';
    },
    moveOut: async (connectionId, roomId, at) => {
      log.push(`move ${connectionId} out of ${roomId} at ${at}`);
    },
  });
  return { deps, log };
}

it('moves each member of a closed room to the lobby before its roomclosed post', async () => {
  const s = stage();
  await post(s.deps, { op: 'post', roomId: 'ROOM1', frames: [closed], connectionIds: ['ann', 'bob'] });
  expect(s.log.slice(0, 2).sort()).toEqual([
    'move ann out of ROOM1 at 2026-11-28T22:00:00.000Z',
    'move bob out of ROOM1 at 2026-11-28T22:00:00.000Z',
  ]);
  expect(s.log.slice(2).sort()).toEqual(['post ann', 'post bob']);
});

it('moves a member whose post was throttled too: its repost finds it in the lobby, told why', async () => {
  const s = stage({ ann: 'retry' });
  const report = await post(s.deps, {
    op: 'post',
    roomId: 'ROOM1',
    frames: [closed],
    connectionIds: ['ann'],
  });
  expect(report.retry).toEqual({ ann: 0 });
  expect(s.log).toContain('move ann out of ROOM1 at 2026-11-28T22:00:00.000Z');
  // The repost posts the notice and moves no one again.
  s.log.length = 0;
  await post(s.deps, { op: 'post', roomId: 'ROOM1', frames: [closed], retry: { ann: 0 } });
  expect(s.log.filter((l) => l.startsWith('move'))).toEqual([]);
});

it('moves nobody for a room that is not closing', async () => {
  const s = stage();
  const { movesOut: _, ...notice } = closed;
  await post(s.deps, { op: 'post', roomId: 'ROOM1', frames: [notice], connectionIds: ['ann'] });
  expect(s.log).toEqual(['post ann']);
});

it("a failed move does not fail the chunk: the other members are moved and the posts' report stands", async () => {
  const moved: string[] = [];
  const { deps } = postStage({
    moveOut: async (connectionId) => {
      if (connectionId === 'ann') throw new Error('throttled');
      moved.push(connectionId);
    },
  });
  const report = await post(deps, {
    op: 'post',
    roomId: 'ROOM1',
    frames: [closed],
    connectionIds: ['ann', 'bob'],
  });
  expect(report).toMatchObject({ retrying: false, goneIds: [] });
  expect(moved).toEqual(['bob']);
});
