import { MemberRooms } from '../../client/members';
import type { MyRoom } from '../../protocol';
import { fakeRequester } from '../helpers/fakeRequester';

/**
 * "Your rooms" on two devices of one person (client/myRooms.ts; docs/DECISIONS.md, "One person, many devices"): the
 * order is the server's, latest activity first, and between answers each device moves a room up by the server time
 * of an event newer than its answer, so two devices that asked `myrooms` at different moments list the rooms in the
 * same order. A room's notices follow the server too: the reply to `setNotices`, or another device's pushed
 * `notices`.
 */

type FrameListener = (event: { frame?: Record<string, unknown> }) => void;

/** A device: MemberRooms over a fake client whose frames the test hands in, answering requests from `answers`. */
function device(answers: (frame: Record<string, unknown>) => unknown) {
  const listeners: FrameListener[] = [];
  const client = {
    on(event: string, listener: FrameListener) {
      if (event === 'frame') listeners.push(listener);
      return client;
    },
  };
  const rooms = new MemberRooms(
    client as never,
    {},
    {
      request: fakeRequester(async (frame) => answers(frame)),
      join: async () => {
        throw new Error('no join here');
      },
      entered: () => undefined,
      roomId: () => 'lobby',
    },
  );
  const told: string[][] = [];
  rooms.on('rooms', (list) => told.push(list.map((r) => r.roomId)));
  return {
    rooms,
    told,
    frame: (frame: Record<string, unknown>) => {
      for (const listener of listeners) listener({ frame });
    },
  };
}

const room = (roomId: string, lastSeq: number): MyRoom => ({
  roomId,
  lastSeq,
  lastReadSeq: lastSeq,
  unread: 0,
});
const order = (rooms: readonly MyRoom[]) => rooms.map((r) => r.roomId);
/** A message of `roomId` at `seq`, sent at `second` (epoch seconds) plus `ms`. */
const message = (roomId: string, seq: number, second: number, ms = 0) => ({
  type: 'message',
  roomId,
  seq,
  messageId: `m-${roomId}-${seq}`,
  username: 'bob',
  text: 'hi',
  sentAt: new Date(second * 1000 + ms).toISOString(),
});

const T = 1_800_000_000;

it('lists the rooms in one order on a device that asked early and one that asked late', async () => {
  // The phone asked first: AAAAAAAA, BBBBBBBB, CCCCCCCC, DDDDDDDD by activity then.
  const phone = device(() => ({
    type: 'myrooms',
    rooms: [room('AAAAAAAA', 5), room('BBBBBBBB', 5), room('CCCCCCCC', 5), room('DDDDDDDD', 5)],
  }));
  await phone.rooms.myRooms();
  // Then C had a message; the laptop asked after it, so its answer has C first.
  phone.frame(message('CCCCCCCC', 6, T));
  const laptop = device(() => ({
    type: 'myrooms',
    rooms: [room('CCCCCCCC', 6), room('AAAAAAAA', 5), room('BBBBBBBB', 5), room('DDDDDDDD', 5)],
  }));
  await laptop.rooms.myRooms();
  expect(order(phone.rooms.list)).toEqual(order(laptop.rooms.list));

  // Both get the same later messages, a batch among them; D and B in the same second come by code on both.
  for (const d of [phone, laptop]) {
    d.frame(message('DDDDDDDD', 6, T + 5, 900));
    d.frame({ type: 'batch', roomId: 'BBBBBBBB', messages: [message('BBBBBBBB', 6, T + 5, 100)] });
  }
  expect(order(laptop.rooms.list)).toEqual(['BBBBBBBB', 'DDDDDDDD', 'CCCCCCCC', 'AAAAAAAA']);
  expect(order(phone.rooms.list)).toEqual(order(laptop.rooms.list));
  // The app heard of each change of order (`rooms`).
  expect(phone.told.at(-1)).toEqual(order(phone.rooms.list));
});

it('moves nothing for an event the answer already counted, an ack, or a frame without a server time', async () => {
  const phone = device(() => ({ type: 'myrooms', rooms: [room('AAAAAAAA', 5), room('BBBBBBBB', 9)] }));
  await phone.rooms.myRooms();
  phone.frame(message('BBBBBBBB', 8, T)); // before its answer's lastSeq: in the answer already
  phone.frame({ type: 'ack', roomId: 'BBBBBBBB', seq: 10, clientMsgId: 'c', messageId: 'x' });
  phone.frame({ ...message('BBBBBBBB', 11, T), sentAt: 'not a time' });
  expect(order(phone.rooms.list)).toEqual(['AAAAAAAA', 'BBBBBBBB']);
  // A change (a reaction) is activity, as it is on the server.
  phone.frame({
    type: 'reaction',
    roomId: 'BBBBBBBB',
    seq: 12,
    targetSeq: 3,
    sentAt: new Date(T * 1000).toISOString(),
  });
  expect(order(phone.rooms.list)).toEqual(['BBBBBBBB', 'AAAAAAAA']);
});

it("carries a room's notices as the server keeps them: its own choice and another device's", async () => {
  const phone = device((frame) =>
    frame.action === 'myrooms'
      ? { type: 'myrooms', rooms: [room('AAAAAAAA', 5), room('BBBBBBBB', 5)] }
      : { type: 'notices', roomId: frame.roomId, notices: frame.notices },
  );
  await phone.rooms.myRooms();
  const heard: unknown[] = [];
  phone.rooms.on('notices', (f) => heard.push(f));

  await phone.rooms.setNotices('AAAAAAAA', 'mute');
  expect(phone.rooms.list.find((r) => r.roomId === 'AAAAAAAA')?.notices).toBe('mute');
  // Another device of the person chose "mentions" for B, then the default for A.
  phone.frame({ type: 'notices', roomId: 'BBBBBBBB', notices: 'mentions' });
  phone.frame({ type: 'notices', roomId: 'AAAAAAAA', notices: 'all' });
  expect(phone.rooms.list.map((r) => [r.roomId, r.notices])).toEqual([
    ['AAAAAAAA', undefined],
    ['BBBBBBBB', 'mentions'],
  ]);
  expect(heard).toEqual([
    { type: 'notices', roomId: 'AAAAAAAA', notices: 'mute' },
    { type: 'notices', roomId: 'BBBBBBBB', notices: 'mentions' },
    { type: 'notices', roomId: 'AAAAAAAA', notices: 'all' },
  ]);
  // A malformed push changes nothing; a bad choice is refused before any request.
  phone.frame({ type: 'notices', roomId: 'BBBBBBBB', notices: 'loud' });
  expect(phone.rooms.list.find((r) => r.roomId === 'BBBBBBBB')?.notices).toBe('mentions');
  await expect(phone.rooms.setNotices('AAAAAAAA', 'loud' as never)).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
  });
});
