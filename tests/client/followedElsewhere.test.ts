import { LOBBY, type MyRoom, type RoomEventFrame } from '#protocol';
import { RoomcastError } from '../../client/errors';
import { MemberRooms } from '../../client/members';
import { fakeRequester } from '../helpers/fakeRequester';

/**
 * A room the person joined on another device (`myroom`) is listed and followed here; a message said in it around the
 * follow counts unread once, whichever comes first: the message's push, the `subscribe` answer, or neither before the
 * other (the answer carries the events after the seq the `myroom` frame listed).
 */
const SHOWN = LOBBY;
const THIRD = 'ABCDEFGH';

function phone(unanswered = 0) {
  let onFrame: (event: { frame?: Record<string, unknown> }) => void = () => undefined;
  const client = {
    on: (event: string, listener: (value: never) => void) => {
      if (event === 'frame') onFrame = listener as typeof onFrame;
      return client;
    },
  };
  let answerSubscribe: (events: RoomEventFrame[], lastSeq: number) => void = () => undefined;
  const asked: Record<string, unknown>[] = [];
  const rooms = new MemberRooms(
    client,
    { readIntervalMs: 0, trackRooms: true, random: () => 0 },
    {
      request: fakeRequester(async (frame) => {
        asked.push(frame);
        if (frame.action === 'myrooms') return { type: 'myrooms', rooms: [] };
        if (frame.action === 'subscribe' && unanswered-- > 0)
          // What the client hears of a request the server never answered in time (a loaded stage, the gateway's
          // `Endpoint request timed out`, which names no request of ours).
          throw new RoomcastError('TIMEOUT', 'No answer to subscribe within 10000 ms.', {
            action: 'subscribe',
          });
        if (frame.action === 'subscribe')
          return new Promise((resolve) => {
            answerSubscribe = (events, lastSeq) =>
              resolve({
                type: 'subscribed',
                rooms: [{ roomId: THIRD, lastSeq, events, hasMore: false, memberKey: 'k-dana' }],
                refused: [],
              });
          });
        throw new Error(`unexpected ${String(frame.action)}`);
      }),
      join: async () => {
        throw new Error('no join here');
      },
      entered: () => undefined,
      roomId: () => SHOWN,
    },
  );
  const frame = (f: Record<string, unknown>) => onFrame({ frame: f });
  const unread = () => rooms.list.find((r) => r.roomId === THIRD)?.unread;
  return { rooms, frame, unread, asked, answer: (e: RoomEventFrame[], s: number) => answerSubscribe(e, s) };
}

const listed: MyRoom = { roomId: THIRD, lastSeq: 0, lastReadSeq: 0, unread: 0 };
const message = {
  type: 'message',
  roomId: THIRD,
  seq: 1,
  messageId: 'm1',
  authorKey: 'k-erin',
  text: 'welcome aboard',
};
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

it.each([
  ['pushed before the answer, which carries it too', 'push', [message], 1],
  ['pushed after an answer that had it not yet', 'answer', [], 0],
  ['only in the answer (said before the follow was stored)', 'answer only', [message], 1],
] as const)('counts a message %s once', async (_name, order, events, lastSeq) => {
  const p = phone();
  await p.rooms.myRooms();
  p.frame({ type: 'myroom', roomId: THIRD, room: listed });
  await settle();
  expect(p.asked.at(-1)).toMatchObject({ action: 'subscribe' });
  if (order === 'push') p.frame(message);
  p.answer(events as unknown as RoomEventFrame[], lastSeq);
  await settle();
  if (order === 'answer') p.frame(message);
  await settle();
  expect(p.unread()).toBe(1);
});

it('follows the room and counts its message when the first `subscribe` got no answer in time', async () => {
  const p = phone(1);
  await p.rooms.myRooms();
  p.frame({ type: 'myroom', roomId: THIRD, room: listed });
  // Asked again (SUBSCRIBE_RETRY): a subscribe is harmless to repeat, a room followed already is answered as it stands.
  const subscribes = () => p.asked.filter((f) => f.action === 'subscribe').length;
  for (let turns = 0; turns < 100 && subscribes() < 2; turns++) await settle();
  expect(subscribes()).toBe(2);
  p.answer([message] as unknown as RoomEventFrame[], 1);
  await settle();
  expect(p.unread()).toBe(1);
  expect(p.rooms.followed).toContain(THIRD);
});
