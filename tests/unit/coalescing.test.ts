import { FRAME_LIMIT_BYTES, framesOf } from '../../functions/domain/fanout/coalescing';
import type { ChatMessage } from '../../protocol';

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
