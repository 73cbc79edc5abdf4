import { coalesceRoomState, FRAME_LIMIT_BYTES, type Frame } from '#deliver/coalescing';
import type { ChatMessage } from '#protocol';
import { framesOf } from '../helpers/roomFrames';

const message = (seq: number, text: string): ChatMessage => ({
  roomId: 'ROOM',
  seq,
  messageId: `id-${seq}`,
  username: 'alice',
  text,
  sentAt: '2026-01-01T00:00:00.000Z',
});

const parsed = (payload: string) =>
  JSON.parse(payload) as { type: string; seq?: number; messages?: { seq: number; text: string }[] };

it('a lone message is the plain message frame, byte for byte what it would be alone', () => {
  const [frame, ...more] = framesOf('ROOM', [message(7, 'hi')]);
  expect(more).toEqual([]);
  expect(frame).toEqual({
    payload: JSON.stringify({
      type: 'message',
      roomId: 'ROOM',
      seq: 7,
      messageId: 'id-7',
      username: 'alice',
      text: 'hi',
      sentAt: '2026-01-01T00:00:00.000Z',
    }),
    firstSeq: 7,
    lastSeq: 7,
    messages: 1,
  });
});

it('fills batches up to exactly 32,768 UTF-8 bytes, in seq order, never a batch of one', () => {
  // Multi-byte text: the limit is on bytes, not characters.
  const messages = Array.from({ length: 40 }, (_, i) => message(i + 1, `${i}:${'€'.repeat(1200 + i * 7)}`));
  const frames = framesOf('ROOM', messages);
  expect(frames.length).toBeGreaterThan(1);
  const seqs: number[] = [];
  for (const frame of frames) {
    expect(Buffer.byteLength(frame.payload, 'utf8')).toBeLessThanOrEqual(FRAME_LIMIT_BYTES);
    const body = parsed(frame.payload);
    if (body.type === 'batch') {
      expect(body.messages?.length).toBeGreaterThan(1);
      expect(frame.messages).toBe(body.messages?.length);
      seqs.push(...(body.messages ?? []).map((m) => m.seq));
    } else seqs.push(body.seq as number);
    expect(frame.lastSeq).toBe(seqs[seqs.length - 1]);
  }
  expect(seqs).toEqual(messages.map((m) => m.seq));
  // Each batch is full: the next message would not have fitted.
  for (const [i, frame] of frames.slice(0, -1).entries()) {
    const nextText = JSON.stringify({ type: 'message', ...messages[frames[i]?.lastSeq as number] });
    expect(Buffer.byteLength(frame.payload) + 1 + Buffer.byteLength(nextText)).toBeGreaterThan(
      FRAME_LIMIT_BYTES,
    );
  }
});

it('a message too long to share a frame goes alone, as a plain message frame, between batches', () => {
  const long = 'x'.repeat(FRAME_LIMIT_BYTES - 200);
  const frames = framesOf('ROOM', [
    message(1, 'a'),
    message(2, 'b'),
    message(3, long),
    message(4, 'c'),
    message(5, 'd'),
  ]);
  expect(frames.map((f) => parsed(f.payload).type)).toEqual(['batch', 'message', 'batch']);
  expect(frames.map((f) => f.lastSeq)).toEqual([2, 3, 5]);
});

describe('a cycle’s presence changes and read positions (coalesceRoomState)', () => {
  const state = (frame: object) => ({ payload: JSON.stringify(frame), lastSeq: 0, messages: 0 });
  const presence = (event: 'join' | 'leave', username: string) =>
    state({ type: 'presence', roomId: 'ROOM', event, username });
  const seen = (username: string, lastReadSeq: number, userId?: string) =>
    state({ type: 'seen', roomId: 'ROOM', members: [{ username, ...(userId && { userId }), lastReadSeq }] });
  const [first, second] = framesOf('ROOM', [message(5, 'five')]).concat(
    framesOf('ROOM', [message(6, 'six')]),
  );
  const bodies = (frames: { payload: string }[]) => frames.map((f) => JSON.parse(f.payload));

  it('makes a join wave one memberschanged frame in the first change’s place, in order, messages kept', () => {
    const frames = coalesceRoomState('ROOM', [
      presence('join', 'ana'),
      first as Frame,
      presence('join', 'ben'),
      presence('leave', 'ana'),
      second as Frame,
    ]);
    expect(bodies(frames)).toEqual([
      {
        type: 'memberschanged',
        roomId: 'ROOM',
        changes: [
          { event: 'join', username: 'ana' },
          { event: 'join', username: 'ben' },
          { event: 'leave', username: 'ana' },
        ],
      },
      JSON.parse((first as Frame).payload),
      JSON.parse((second as Frame).payload),
    ]);
  });

  it('keeps why a member left in its change: a ban or removal reads as such to the room', () => {
    const banned = state({
      type: 'presence',
      roomId: 'ROOM',
      event: 'leave',
      username: 'cat',
      reason: 'banned',
    });
    const frames = coalesceRoomState('ROOM', [presence('join', 'dan'), banned]);
    expect(bodies(frames)).toEqual([
      {
        type: 'memberschanged',
        roomId: 'ROOM',
        changes: [
          { event: 'join', username: 'dan' },
          { event: 'leave', username: 'cat', reason: 'banned' },
        ],
      },
    ]);
  });

  it("tells a person's profile changes of one cycle once, the last, in its place; other people's stay apart", () => {
    const profile = (authorKey: string, displayName: string) =>
      state({
        type: 'profile',
        userId: `user:${authorKey}`,
        displayName,
        roomId: 'ROOM',
        authorKey,
        username: authorKey,
      });
    const frames = coalesceRoomState('ROOM', [
      profile('ana', 'Ana 1'),
      first as Frame,
      profile('ben', 'Ben'),
      profile('ana', 'Ana 2'),
      second as Frame,
      profile('ana', 'Ana 3'),
    ]);
    expect(bodies(frames)).toEqual([
      JSON.parse((first as Frame).payload),
      JSON.parse(profile('ben', 'Ben').payload),
      JSON.parse((second as Frame).payload),
      JSON.parse(profile('ana', 'Ana 3').payload),
    ]);
  });

  it('leaves a lone presence frame as it came', () => {
    const lone = presence('join', 'cat');
    expect(coalesceRoomState('ROOM', [first as Frame, lone])).toEqual([first, lone]);
  });

  it('makes a cycle’s reads one seen frame after its messages, each member once at its furthest position', () => {
    const frames = coalesceRoomState('ROOM', [
      seen('ana', 4, `user:${'a'.repeat(43)}`),
      first as Frame,
      seen('ben', 5),
      seen('ana', 5, `user:${'a'.repeat(43)}`),
      seen('ben', 3),
    ]);
    expect(bodies(frames)).toEqual([
      JSON.parse((first as Frame).payload),
      {
        type: 'seen',
        roomId: 'ROOM',
        members: [
          { username: 'ana', userId: `user:${'a'.repeat(43)}`, lastReadSeq: 5 },
          { username: 'ben', lastReadSeq: 5 },
        ],
      },
    ]);
  });
});
