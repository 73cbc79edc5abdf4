import { ReadPositions } from '../../client/readPositions';
import { READ_MARKS_PER_ROOM_PER_SECOND, readIntervalFor } from '../../protocol';

/**
 * A room's read positions are sent at most once per its interval, longer in a big room (protocol readIntervalFor), so
 * a room's watching members together stay within their share of the stage's one `markread` bucket; each room keeps
 * its own pace. Jest's fake clock drives the intervals.
 */
beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

const BASE_MS = 5000;

function positions() {
  const sent: Array<{ roomId: string; seq: number; at: number }> = [];
  const reads = new ReadPositions(
    {
      request: async (frame) => {
        const { roomId, seq } = frame as unknown as { roomId: string; seq: number };
        sent.push({ roomId, seq, at: Date.now() });
        return { type: 'read', roomId, lastReadSeq: seq } as never;
      },
      shown: () => 'BIGROOM1',
      follows: () => true,
      read: () => undefined,
    },
    BASE_MS,
    () => Date.now(),
  );
  return { reads, sent };
}

it('a room of 5,000 members has its position sent once per 100 s; a room of 10 once per 5 s, at its own pace', async () => {
  const { reads, sent } = positions();
  reads.heard({ type: 'joined', roomId: 'BIGROOM1', memberCount: 5000 });
  reads.heard({ type: 'subscribed', rooms: [{ roomId: 'SMALLRM1', memberCount: 10 }] });
  void reads.mark(1, 'BIGROOM1');
  void reads.mark(1, 'SMALLRM1');
  expect(sent.map((s) => `${s.roomId}@${s.at}`)).toEqual(['BIGROOM1@0', 'SMALLRM1@0']);

  await jest.advanceTimersByTimeAsync(1000);
  void reads.mark(2, 'BIGROOM1');
  void reads.mark(2, 'SMALLRM1');
  await jest.advanceTimersByTimeAsync(BASE_MS);
  // The small room's next position went at 5 s; the big room's waits.
  expect(sent.map((s) => `${s.roomId}@${s.at}`)).toEqual(['BIGROOM1@0', 'SMALLRM1@0', 'SMALLRM1@5000']);
  void reads.mark(3, 'BIGROOM1'); // read further meanwhile: one position, the highest, goes
  await jest.advanceTimersByTimeAsync(100_000 - 6000 - 1);
  expect(sent.filter((s) => s.roomId === 'BIGROOM1')).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(sent.filter((s) => s.roomId === 'BIGROOM1')).toEqual([
    { roomId: 'BIGROOM1', seq: 1, at: 0 },
    { roomId: 'BIGROOM1', seq: 3, at: 100_000 },
  ]);
});

it("a room's members together send at most the per-room share, whatever its size; a room of unknown size keeps the base", () => {
  for (const members of [1, 250, 251, 1000, 5000, 10_000, 100_000])
    expect(members * 1000).toBeLessThanOrEqual(
      READ_MARKS_PER_ROOM_PER_SECOND * readIntervalFor(members, BASE_MS),
    );
  expect(readIntervalFor(250, BASE_MS)).toBe(BASE_MS);
  expect(readIntervalFor(1000, BASE_MS)).toBe(20_000);
  expect(readIntervalFor(undefined, BASE_MS)).toBe(BASE_MS);
});

it("a big room's position waiting for its interval already counts on this device", async () => {
  const { reads, sent } = positions();
  reads.heard({ type: 'members', roomId: 'BIGROOM1', members: [], memberCount: 5000 });
  void reads.mark(4, 'BIGROOM1');
  void reads.mark(9, 'BIGROOM1');
  expect(sent.map((s) => s.seq)).toEqual([4]);
  expect(reads.sentFor('BIGROOM1')).toBe(9);
});
