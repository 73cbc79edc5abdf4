import type { RoomcastError } from '../../client';
import { SUBSCRIBE_RETRY } from '../../client/members';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * A `subscribe` the server answers BUSY or INTERNAL ("a limit met for now, retry"), as a whole or for some of its
 * rooms, is asked again after a jittered wait, so the rooms end up followed: their messages keep reaching the page and
 * their unread counts keep rising. Without it a page reloaded under load silently stopped getting a DM's messages
 * until the next reconnect. A room refused for good is not asked again; a server that stays busy is the `error` event.
 */
const fake = fakeServerPerTest();

const DM = 'DDDDDDDD';
const busy = { type: 'error', code: 'BUSY', message: 'The chat is busy right now.', action: 'subscribe' };

/** The server answers the first `times` subscribes with `answer` (then as usual). */
function subscribeAnswered(answer: object | ((frame: Record<string, unknown>) => object), times: number) {
  let left = times;
  fake.server.intercept = (frame) => {
    if (frame.action !== 'subscribe' || left === 0) return undefined;
    left -= 1;
    return typeof answer === 'function' ? answer(frame) : answer;
  };
}

/** A page load (`trackRooms`) of a member whose rooms are a DM with bob. */
function reloadWithDm() {
  fake.server.rooms.set(DM, []);
  fake.server.myRooms = [
    { roomId: DM, lastSeq: 0, lastReadSeq: 0, unread: 0, dm: { userId: 'u-bob', username: 'bob' } },
  ];
  const chat = fake.client({ trackRooms: true });
  const errors: RoomcastError[] = [];
  chat.on('error', (error) => errors.push(error));
  return { chat, errors };
}

it('asks again for a subscribe answered BUSY after a page load, so a DM message still raises its unread count', async () => {
  subscribeAnswered(busy, 1);
  const { chat, errors } = reloadWithDm();
  await jest.advanceTimersByTimeAsync(2_000);
  expect(fake.server.sent('subscribe').map((f) => f.rooms)).toEqual([
    [{ roomId: DM, afterSeq: 0 }],
    [{ roomId: DM, afterSeq: 0 }],
  ]);
  expect(chat.rooms.followed).toEqual([DM]);
  const inDm: string[] = [];
  chat.rooms.get(DM).on('message', (m) => inDm.push(m.text));
  fake.server.store(DM, 'psst', 'bob');
  await tick();
  expect(inDm).toEqual(['psst']);
  expect(chat.rooms.get(DM).unread).toBe(1);
  expect(chat.rooms.list[0]).toMatchObject({ roomId: DM, unread: 1 });
  expect(errors).toEqual([]);
});

it('asks again only for the rooms an answer refused BUSY, never one refused for good', async () => {
  fake.server.rooms.set('AAAAAAAA', []);
  subscribeAnswered(
    {
      type: 'subscribed',
      rooms: [],
      refused: [
        { roomId: 'AAAAAAAA', code: 'ROOM_CLOSED', message: 'This room has been closed.' },
        { roomId: DM, code: 'BUSY', message: 'The chat is busy right now.' },
      ],
    },
    1,
  );
  const { chat, errors } = reloadWithDm();
  fake.server.myRooms.push({ roomId: 'AAAAAAAA', lastSeq: 0, lastReadSeq: 0, unread: 0 });
  await jest.advanceTimersByTimeAsync(2_000);
  const rooms = fake.server
    .sent('subscribe')
    .map((f) => (f.rooms as Array<{ roomId: string }>).map((r) => r.roomId));
  expect(rooms).toEqual([[DM, 'AAAAAAAA'], [DM]]);
  expect(chat.rooms.followed).toEqual([DM]);
  fake.server.store(DM, 'still here', 'bob');
  await tick();
  expect(chat.rooms.get(DM).unread).toBe(1);
  expect(errors).toEqual([]);
});

it('does not send again a subscribe refused for good, and tells the app', async () => {
  subscribeAnswered(
    { ...busy, code: 'TOO_MANY_ROOMS', message: 'A connection follows at most 100 rooms.' },
    1,
  );
  const { chat, errors } = reloadWithDm();
  await jest.advanceTimersByTimeAsync(5_000);
  expect(fake.server.sent('subscribe')).toHaveLength(1);
  expect(chat.rooms.followed).toEqual([]);
  expect(errors.map((e) => e.code)).toEqual(['TOO_MANY_ROOMS']);
});

it(`gives up after ${SUBSCRIBE_RETRY.maxAttempts} attempts when the server stays busy, and tells the app with an error event`, async () => {
  subscribeAnswered(busy, Number.POSITIVE_INFINITY);
  const { chat, errors } = reloadWithDm();
  await jest.advanceTimersByTimeAsync(10_000);
  expect(fake.server.sent('subscribe')).toHaveLength(SUBSCRIBE_RETRY.maxAttempts);
  expect(chat.rooms.followed).toEqual([]);
  expect(errors).toEqual([
    expect.objectContaining({ code: 'BUSY', details: expect.objectContaining({ action: 'subscribe' }) }),
  ]);
  expect(chat.state).toBe('ready'); // the rest of the page goes on: the next connect asks again
});

it('asks again on the same connection when the resubscribe after a reconnect is answered BUSY', async () => {
  fake.server.rooms.set('AAAAAAAA', []);
  fake.server.rooms.set('BBBBBBBB', []);
  const chat = fake.client();
  await tick();
  const joining = chat.join('BBBBBBBB');
  await tick();
  await joining;
  const following = chat.rooms.subscribe(['AAAAAAAA']);
  await tick();
  await following;
  const inA: string[] = [];
  chat.rooms.get('AAAAAAAA').on('message', (m) => inA.push(m.text));
  const errors: RoomcastError[] = [];
  chat.on('error', (error) => errors.push(error));
  const sockets = fake.server.sockets.length;
  const before = fake.server.sent('subscribe').length;

  subscribeAnswered({ ...busy, code: 'INTERNAL', message: 'Something went wrong on our side.' }, 1);
  fake.server.last.drop();
  fake.server.fanOut = false;
  fake.server.store('AAAAAAAA', 'said while away', 'bob');
  fake.server.fanOut = true;
  await jest.advanceTimersByTimeAsync(1_000); // within INDEX_LAG_MS: no quiet-room check yet

  expect(chat.state).toBe('ready');
  expect(fake.server.sockets.length).toBe(sockets + 1); // one reconnect, not one per refusal
  expect(
    fake.server
      .sent('subscribe')
      .slice(before)
      .map((f) => f.rooms),
  ).toEqual([[{ roomId: 'AAAAAAAA', afterSeq: 0 }], [{ roomId: 'AAAAAAAA', afterSeq: 0 }]]);
  fake.server.store('AAAAAAAA', 'live again', 'bob');
  await tick();
  expect(inA).toEqual(['said while away', 'live again']);
  expect(errors).toEqual([]);
});

it('stops asking again when the connection closes during the wait: the reconnect resubscribes the room', async () => {
  subscribeAnswered(busy, 1);
  const { chat } = reloadWithDm();
  await tick(100); // answered BUSY; waiting to ask again
  expect(fake.server.sent('subscribe')).toHaveLength(1);
  fake.server.last.drop();
  await jest.advanceTimersByTimeAsync(1_000); // within INDEX_LAG_MS: no quiet-room check yet
  expect(chat.state).toBe('ready');
  // On the new connection: the resubscribe asks for the room (still followed), and no stale retry besides it.
  const onNew = fake.server.sent('subscribe').filter((f) => f.socket === 1);
  expect(onNew.map((f) => f.rooms)).toEqual([[{ roomId: DM, afterSeq: 0 }]]);
  expect(chat.rooms.followed).toEqual([DM]);
  fake.server.store(DM, 'after the reconnect', 'bob');
  await tick();
  expect(chat.rooms.get(DM).unread).toBe(1);
});
