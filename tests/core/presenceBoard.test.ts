import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MemberChange } from '#protocol';
import { DynamoPresenceBoard } from '../../functions/core/identity/dynamoPresence';
import {
  type BoardContent,
  NAMED_PRESENCE_LEVEL,
  PRESENCE_NAMED,
  PRESENCE_STALE_MS,
  type PresenceBoard,
  PresenceOnBoards,
  presenceEvent,
  presenceFrameOf,
} from '../../functions/core/identity/presence';
import { hashKeyTable, localDynamo } from '../helpers/localCloud';

/**
 * What a turn's presence board tells members (docs/DECISIONS.md, "Presence collected per room, told once a turn"),
 * and which writes put the room's wake on the bus. The board itself runs on the local cloud in
 * tests/deliver/presenceBoard.test.ts.
 */

const join = (username: string): MemberChange => ({ event: 'join', username });
const leave = (username: string): MemberChange => ({ event: 'leave', username });
const board = (changes: MemberChange[], joined = 0, left = 0): BoardContent => ({ changes, joined, left });
const frameOf = (content: BoardContent, level = 1) => {
  const text = presenceFrameOf('ROOM2345', content, level);
  return text === undefined ? undefined : JSON.parse(text);
};

describe('the frame a turn tells', () => {
  it('a small room hears a lone join as "alice joined" (a presence frame)', () => {
    expect(frameOf(board([join('alice')]))).toEqual({
      type: 'presence',
      roomId: 'ROOM2345',
      event: 'join',
      username: 'alice',
    });
  });

  it("a small room hears a turn's changes by name, in order, in one frame, with the ones past the names counted", () => {
    expect(frameOf(board([join('alice'), leave('bob'), join('carol')], 7, 2))).toEqual({
      type: 'memberschanged',
      roomId: 'ROOM2345',
      changes: [join('alice'), leave('bob'), join('carol')],
      joined: 7,
      left: 2,
    });
  });

  it('a person who leaves and comes back within the turn (a reconnect) is told nothing; so is one in and out', () => {
    expect(frameOf(board([leave('alice'), join('alice')]))).toBeUndefined();
    expect(frameOf(board([join('bob'), leave('bob')]))).toBeUndefined();
    expect(frameOf(board([leave('alice'), join('carol'), join('alice')]))).toEqual({
      type: 'presence',
      roomId: 'ROOM2345',
      event: 'join',
      username: 'carol',
    });
  });

  it('a room that has held more than 100 members hears no names, only how many joined and left', () => {
    const changes = Array.from({ length: 50 }, (_, i) => join(`p${i}`));
    const frame = frameOf(board([...changes, leave('old')], 950, 10), NAMED_PRESENCE_LEVEL + 1);
    expect(frame).toEqual({
      type: 'memberschanged',
      roomId: 'ROOM2345',
      changes: [],
      joined: 1000,
      left: 11,
    });
    // The frame stays the same size however many came.
    expect(JSON.stringify(frame).length).toBeLessThan(100);
  });

  it('an empty board (a repeat wake) tells nothing', () => {
    expect(frameOf(board([]))).toBeUndefined();
    expect(frameOf(board([]), 12)).toBeUndefined();
  });
});

/** A board in memory: what each room holds, and when it was opened. */
function memoryBoard(): PresenceBoard & { rooms: Map<string, { changes: MemberChange[]; opened: number }> } {
  const rooms = new Map<string, { changes: MemberChange[]; opened: number }>();
  return {
    rooms,
    async write(roomId, change, nowMs) {
      const held = rooms.get(roomId);
      if (held) held.changes.push(change);
      else rooms.set(roomId, { changes: [change], opened: nowMs });
      return !held || nowMs - held.opened > PRESENCE_STALE_MS;
    },
    async take(roomId) {
      const held = rooms.get(roomId);
      rooms.delete(roomId);
      return held && { changes: held.changes, joined: 0, left: 0 };
    },
  };
}

describe('publishing presence through the boards', () => {
  it('50 joins into one room put one wake on the bus, not 50 events; other events pass as they are', async () => {
    const published: unknown[] = [];
    const boards = memoryBoard();
    let now = 1_000;
    const events = new PresenceOnBoards(
      { publish: async (e) => void published.push(...e) },
      boards,
      () => now,
    );
    for (let i = 0; i < 50; i += 10)
      await events.publish(
        Array.from({ length: 10 }, (_, k) => presenceEvent('ROOM2345', 'join', `p${i + k}`)),
      );
    const seen = { type: 'Seen' as const, messageId: 'm1', roomId: 'ROOM2345', payload: '{"type":"seen"}' };
    await events.publish([seen]);
    expect(published).toEqual([
      { type: 'Presence', messageId: expect.any(String), roomId: 'ROOM2345', board: true },
      seen,
    ]);
    expect(boards.rooms.get('ROOM2345')?.changes).toHaveLength(50);
    // Once taken, the next change opens the board again and wakes the room again.
    await boards.take('ROOM2345');
    now += 500;
    await events.publish([presenceEvent('ROOM2345', 'leave', 'p1')]);
    expect(published).toHaveLength(3);
  });
});

describe('the board in DynamoDB (the local twin)', () => {
  const local = localDynamo({ tables: [hashKeyTable('Limits', 'limitKey')] });
  const dynamoBoard = () => new DynamoPresenceBoard(DynamoDBDocumentClient.from(local.client), 'Limits');

  it('names the first PRESENCE_NAMED changes and counts the rest; a take empties it, and a second finds nothing', async () => {
    const boards = dynamoBoard();
    const opened: boolean[] = [];
    for (let i = 0; i < PRESENCE_NAMED + 12; i++)
      opened.push(await boards.write('BIGROOM2', i % 4 === 3 ? leave(`p${i}`) : join(`p${i}`), 1_000 + i));
    // Only the write that opened the board wakes the room.
    expect(opened.filter(Boolean)).toHaveLength(1);
    expect(opened[0]).toBe(true);
    const taken = await boards.take('BIGROOM2');
    expect(taken?.changes).toHaveLength(PRESENCE_NAMED);
    expect(taken?.changes[0]).toEqual(join('p0'));
    expect(taken?.changes[3]).toEqual(leave('p3'));
    expect(taken?.joined).toBe(9);
    expect(taken?.left).toBe(3);
    expect(await boards.take('BIGROOM2')).toBeUndefined();
    // The next change opens the board again.
    expect(await boards.write('BIGROOM2', join('late'), 5_000)).toBe(true);
    expect((await boards.take('BIGROOM2'))?.changes).toEqual([join('late')]);
  });

  it('a board left open past PRESENCE_STALE_MS (its wake lost) is woken again by the next change', async () => {
    const boards = dynamoBoard();
    expect(await boards.write('STALE234', join('a'), 0)).toBe(true);
    expect(await boards.write('STALE234', join('b'), PRESENCE_STALE_MS)).toBe(false);
    expect(await boards.write('STALE234', join('c'), PRESENCE_STALE_MS + 1)).toBe(true);
  });
});
