import { FrameTap, mark, measure } from '../../tools/bench/hotRoom';
import type { Members } from '../../tools/bench/members';

type Listener = (value: { raw: string; frame?: Record<string, unknown> }) => void;

/** Members whose clients only emit `frame` events, as the client library does for every frame it receives. */
function fakeMembers(n: number) {
  const listeners: Listener[] = [];
  const clients = Array.from({ length: n }, (_, i) => ({
    on: (_event: 'frame', listener: Listener) => {
      listeners[i] = listener;
      return () => {
        delete listeners[i];
      };
    },
  }));
  const deliver = (i: number, frame: Record<string, unknown>) =>
    listeners[i]?.({ raw: JSON.stringify(frame), frame });
  return { members: { clients } as unknown as Members, deliver };
}

const message = (seq: number) => ({ type: 'message', roomId: 'ROOM1234', seq, text: `m${seq}` });
const batch = (...seqs: number[]) => ({ type: 'batch', roomId: 'ROOM1234', messages: seqs.map(message) });

describe('hot-room frame counting', () => {
  test('a batch frame is one post carrying several messages; other frames are not posts of messages', () => {
    const { members, deliver } = fakeMembers(2);
    const tap = new FrameTap(members);
    const start = mark(tap);
    for (const i of [0, 1]) {
      deliver(i, message(1));
      deliver(i, batch(2, 3, 4));
      deliver(i, { type: 'presence', roomId: 'ROOM1234', event: 'joined' });
    }
    const sentAt = new Map([1, 2, 3, 4].map((seq) => [seq, 0]));
    const m = measure(tap, sentAt, start);
    expect(m.frames).toBe(4); // 2 members x (1 message + 1 batch)
    expect(m.messages).toBe(4);
    expect(m.postsPerMessage).toBe(1); // 4 posts for 4 messages in a room of 2: half a post per member
    expect(m.batchFrames).toBe(2);
    expect(m.largestBatch).toBe(3);
    expect(m.deliveries).toBe(8);
    expect(m.missing).toBe(0);
    expect(m.duplicated).toBe(0);
  });

  test('without batches a message costs one post per member, and losses and copies are counted', () => {
    const { members, deliver } = fakeMembers(3);
    const tap = new FrameTap(members);
    deliver(0, message(9)); // before the phase: not counted
    const start = mark(tap);
    for (const i of [0, 1, 2]) for (const seq of [10, 11]) deliver(i, message(seq));
    deliver(2, message(11)); // a copy
    const m = measure(
      tap,
      new Map([
        [10, 0],
        [11, 0],
        [12, 0],
      ]),
      start,
    );
    expect(m.messages).toBe(2);
    expect(m.frames).toBe(7);
    expect(m.postsPerMessage).toBe(3.5);
    expect(m.missing).toBe(3); // seq 12 reached nobody
    expect(m.duplicated).toBe(1);
  });
});
