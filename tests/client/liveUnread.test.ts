import { CHANGE_FRAME_TYPES, type MyRoom } from '#protocol';
import { MemberRooms } from '../../client/members';
import { fakeRequester } from '../helpers/fakeRequester';

/**
 * The client's live unread count between two `myrooms` answers, fed the frames a connection gets: it counts as the
 * server counts (messages from others after the read position), whatever order a message's frame and its ack come in.
 */
const ROOM = 'ABCDEFGH';

function roomsWith(answer: MyRoom) {
  let onFrame: (event: { frame?: Record<string, unknown> }) => void = () => undefined;
  const client = {
    on: (event: string, listener: (value: never) => void) => {
      if (event === 'frame') onFrame = listener as typeof onFrame;
      return client;
    },
  };
  const marks: number[] = [];
  const rooms = new MemberRooms(
    client,
    { readIntervalMs: 0 },
    {
      request: fakeRequester(async (frame) => {
        if (frame.action === 'myrooms') return { type: 'myrooms', rooms: [answer] };
        marks.push(Number(frame.seq));
        return { type: 'read', roomId: ROOM, lastReadSeq: frame.seq };
      }),
      join: async () => {
        throw new Error('no join here');
      },
      entered: () => undefined,
      roomId: () => ROOM,
    },
  );
  const frame = (f: Record<string, unknown>) => onFrame({ frame: { roomId: ROOM, ...f } });
  const unread = () => rooms.list.find((r) => r.roomId === ROOM)?.unread;
  return { rooms, frame, unread, marks };
}

it('adds messages from others, leaves out its own whether the ack comes first or last, and a deleted one', async () => {
  const { rooms, frame, unread } = roomsWith({ roomId: ROOM, lastSeq: 4, lastReadSeq: 2, unread: 1 });
  await rooms.myRooms();
  expect(unread()).toBe(1);
  frame({ type: 'message', seq: 4, messageId: 'm4' }); // already in the answer's count
  frame({ type: 'message', seq: 5, messageId: 'm5' });
  frame({ type: 'message', seq: 6, messageId: 'm6' }); // its own, before its ack
  frame({ type: 'ack', seq: 6, messageId: 'm6' });
  frame({ type: 'ack', seq: 7, messageId: 'm7' }); // its own, ack first
  frame({ type: 'message', seq: 7, messageId: 'm7' });
  frame({ type: 'reaction', seq: 8, targetSeq: 5 });
  frame({ type: 'edited', seq: 9, targetSeq: 5 });
  frame({
    type: 'batch',
    messages: [
      { type: 'message', roomId: ROOM, seq: 10 },
      { type: 'message', roomId: ROOM, seq: 11 },
      { type: 'deleted', roomId: ROOM, seq: 12, targetSeq: 11 },
    ],
  });
  frame({ type: 'message', seq: 10 }); // sent again: counted once
  expect(rooms.list[0]).toMatchObject({ lastSeq: 12, unread: 3 });

  // Reading up to 5 leaves the message at 10.
  await rooms.markRead(5);
  await new Promise((r) => setTimeout(r, 0));
  frame({ type: 'reaction', seq: 13, targetSeq: 10 });
  expect(rooms.list[0]).toMatchObject({ lastReadSeq: 5, unread: 1 });
});

it.each(CHANGE_FRAME_TYPES.filter((type) => type !== 'deleted'))(
  'moves the latest seq on a `%s` frame, as myrooms does, and counts nothing',
  async (type) => {
    const { rooms, frame, unread } = roomsWith({ roomId: ROOM, lastSeq: 4, lastReadSeq: 3, unread: 1 });
    await rooms.myRooms();
    frame({ type, seq: 5, targetSeq: 4 });
    expect(rooms.list[0]).toMatchObject({ lastSeq: 5 });
    expect(unread()).toBe(1);
  },
);

it('shows 99+ past 99, as myrooms does', async () => {
  const { rooms, frame } = roomsWith({ roomId: ROOM, lastSeq: 0, lastReadSeq: 0, unread: 0 });
  await rooms.myRooms();
  for (let seq = 1; seq <= 120; seq++) frame({ type: 'message', seq });
  expect(rooms.list[0]).toMatchObject({ unread: 99, unreadMore: true });
});

it('counts nothing for malformed frames, and does not throw on them', async () => {
  const { rooms, frame, unread } = roomsWith({ roomId: ROOM, lastSeq: 1, lastReadSeq: 0, unread: 1 });
  await rooms.myRooms();
  expect(() => {
    frame({
      type: 'batch',
      messages: [null, 7, 'x', { type: 'message', seq: '9' }, { type: 'message', seq: 2.5 }],
    });
    frame({ type: 'message', seq: null });
  }).not.toThrow();
  expect(unread()).toBe(1);
});
