import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RoomMessages } from '../../client/messages';
import type { MessageFrame, Pin } from '../../protocol';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';
import { localDocumentClient } from '../helpers/templateTables';

/**
 * Threads through the local cloud with sign-in: a reply in a thread (`threadOf`) reaches every member as a message
 * carrying its root's seq, the root's summary (count, last reply, participants) moves on live in the client's store
 * and is kept on the root for `history`, a thread's history pages, edits, deletes and reactions work on replies, a
 * reply tells the root's author and the thread's followers on their other devices, and a thread of a reply, of a
 * deleted, missing or other room's message is refused with nothing stored.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({
  FrameRateLimit: '100000',
  StrikeLimit: '100000',
  SendRateLimit: '1000',
  MentionNoticeSeconds: '0',
});
const { device, ask } = chat;

const isMessage = (text: string) => (f: Frame) => f.type === 'message' && f.text === text;

/** A room of `owner` that `members` joined; returns its code and the owner's `joined`-like frame. */
async function roomWith(owner: ChatClient, members: ChatClient[]) {
  const created = await ask(owner, { action: 'createroom' });
  const roomId = String(created.roomId);
  for (const member of members) await ask(member, { action: 'joinroom', roomId, key: created.inviteKey });
  return { roomId, created };
}

/** The client library's store of a connection's room, fed the frames it received. */
function storeOf(room: Frame) {
  const listeners = new Map<string, ((value: unknown) => void)[]>();
  const store = new RoomMessages({
    on: (event: string, listener: (value: never) => void) =>
      listeners.set(event, [...(listeners.get(event) ?? []), listener as (value: unknown) => void]),
  });
  const emit = (event: string, value: unknown) => {
    for (const l of listeners.get(event) ?? []) l(value);
  };
  emit('room', {
    roomId: room.roomId,
    lastSeq: room.lastSeq,
    memberKey: room.memberKey,
    pins: room.pins as Pin[],
  });
  return { store, feed: (m: Frame) => emit('message', m as unknown as MessageFrame) };
}

it('a reply reaches every member with its threadOf, its root counts it live and in history, and the thread pages', async () => {
  const ana = await device('ana');
  const bob = await device('bob');
  const carol = await device('carol');
  const { roomId, created } = await roomWith(ana, [bob, carol]);
  const { store, feed } = storeOf(created);

  const root = await ask(ana, { action: 'sendmessage', message: 'lunch on friday?' });
  feed(await ana.next(isMessage('lunch on friday?')));

  const first = await ask(bob, { action: 'sendmessage', message: 'yes!', threadOf: root.seq });
  for (const member of [carol, bob]) {
    const live = await member.next(isMessage('yes!'));
    expect(live).toMatchObject({ seq: first.seq, threadOf: root.seq, username: 'bob' });
    expect(live.alsoToRoom).toBeUndefined();
  }
  feed(await ana.next(isMessage('yes!')));
  expect(store.get(root.seq as number)?.thread).toEqual({
    replyCount: 1,
    lastReplyAt: expect.any(String),
    lastReplySeq: first.seq,
    participants: ['bob'],
  });
  // Ana wrote the root: bob's reply is unread in her thread, and not in the room's flow.
  expect(store.threadUnread(root.seq as number)).toBe(1);
  expect(store.flow().map((m) => m.seq)).toEqual([root.seq]);

  const second = await ask(carol, { action: 'sendmessage', message: 'only after 1', threadOf: root.seq });
  feed(await ana.next(isMessage('only after 1')));
  const third = await ask(ana, {
    action: 'sendmessage',
    message: 'friday 1pm it is',
    threadOf: root.seq,
    alsoToRoom: true,
  });
  const shared = await bob.next(isMessage('friday 1pm it is'));
  expect(shared).toMatchObject({ threadOf: root.seq, alsoToRoom: true });
  feed(await ana.next(isMessage('friday 1pm it is')));
  expect(store.get(root.seq as number)?.thread).toMatchObject({
    replyCount: 3,
    lastReplySeq: third.seq,
    participants: ['ana', 'bob', 'carol'],
  });
  // Her own reply is not unread; the reply also sent to the room is in its flow.
  expect(store.threadUnread(root.seq as number)).toBe(2);
  expect(store.flow().map((m) => m.seq)).toEqual([root.seq, third.seq]);
  store.markThreadRead(root.seq as number);
  expect(store.threadUnread(root.seq as number)).toBe(0);

  // The root as history reads it carries the same summary.
  const page = await ask(carol, { action: 'history' });
  const rootRead = (page.messages as Frame[]).find((m) => m.seq === root.seq);
  expect(rootRead?.thread).toEqual({
    replyCount: 3,
    lastReplyAt: shared.sentAt,
    lastReplySeq: third.seq,
    participants: ['ana', 'bob', 'carol'],
  });

  // The thread pages: the latest two, then the one before, then forward from the first.
  const latest = await ask(bob, { action: 'history', roomId, threadOf: root.seq, limit: 2 });
  expect(latest).toMatchObject({
    type: 'history',
    threadOf: root.seq,
    hasOlder: true,
    following: true,
    root: { seq: root.seq, text: 'lunch on friday?', thread: { replyCount: 3 } },
  });
  expect((latest.messages as Frame[]).map((m) => m.seq)).toEqual([second.seq, third.seq]);
  const older = await ask(bob, { action: 'history', threadOf: root.seq, limit: 2, beforeSeq: second.seq });
  expect((older.messages as Frame[]).map((m) => m.text)).toEqual(['yes!']);
  expect(older.hasOlder).toBe(false);
  const after = await ask(bob, { action: 'history', threadOf: root.seq, limit: 1, afterSeq: first.seq });
  expect((after.messages as Frame[]).map((m) => m.seq)).toEqual([second.seq]);
  expect(after.hasMore).toBe(true);
  // Carol replied, so she follows; a member who never took part does not.
  const dave = await device('dave');
  await ask(dave, { action: 'joinroom', roomId, key: created.inviteKey });
  expect((await ask(dave, { action: 'history', threadOf: root.seq })).following).toBe(false);

  // Edits, reactions and deletes work on replies, live and in the thread's history.
  await ask(bob, { action: 'editmessage', seq: first.seq, message: 'yes! count me in' });
  expect(await ana.next((f) => f.type === 'edited' && f.targetSeq === first.seq)).toMatchObject({
    text: 'yes! count me in',
  });
  await ask(ana, { action: 'react', seq: second.seq, reaction: '👍' });
  await ask(carol, { action: 'deletemessage', seq: second.seq });
  const changed = await ask(ana, { action: 'history', threadOf: root.seq });
  const bySeq = new Map((changed.messages as Frame[]).map((m) => [m.seq, m]));
  expect(bySeq.get(first.seq)).toMatchObject({ text: 'yes! count me in', editedAt: expect.any(String) });
  expect(bySeq.get(second.seq)).toMatchObject({ text: '', deleted: 'author' });
  expect(bySeq.get(third.seq)).toMatchObject({ text: 'friday 1pm it is', threadOf: root.seq });
});

it('refuses a thread of a reply, of a deleted, missing or change seq, or of another room, and stores nothing', async () => {
  const ana = await device('ana');
  const bob = await device('bob');
  await roomWith(ana, [bob]);
  for (const text of ['one', 'two', 'three']) await ask(ana, { action: 'sendmessage', message: text });
  const root = await ask(ana, { action: 'sendmessage', message: 'the root' });
  const reply = await ask(bob, { action: 'sendmessage', message: 'a reply', threadOf: root.seq });
  const gone = await ask(ana, { action: 'sendmessage', message: 'soon deleted' });
  const deleted = await ask(ana, { action: 'deletemessage', seq: gone.seq });
  const last = Number(deleted.seq);

  const refusals: [Record<string, unknown>, string, RegExp][] = [
    [{ threadOf: reply.seq }, 'BAD_REQUEST', /threads do not nest/],
    [{ threadOf: gone.seq }, 'MESSAGE_DELETED', /deleted/],
    [{ threadOf: 9999 }, 'MESSAGE_NOT_FOUND', /no message 9999/],
    [{ threadOf: deleted.seq }, 'MESSAGE_NOT_FOUND', /no message/],
    [{ threadOf: 'one' }, 'BAD_REQUEST', /"threadOf" must be/],
    [{ alsoToRoom: true }, 'BAD_REQUEST', /goes with "threadOf"/],
    [{ threadOf: root.seq, alsoToRoom: 'yes' }, 'BAD_REQUEST', /"alsoToRoom" must be/],
  ];
  for (const [extra, code, message] of refusals) {
    const refused = await ask(bob, { action: 'sendmessage', message: 'refused', ...extra });
    expect({ extra, code: refused.code }).toEqual({ extra, code });
    expect(refused.message).toMatch(message);
  }
  // Ana moves to a room of her own, which has fewer messages than the root's seq: the root's seq names nothing there.
  await ask(ana, { action: 'createroom' });
  const crossRoom = await ask(ana, { action: 'sendmessage', message: 'refused', threadOf: root.seq });
  expect(crossRoom).toMatchObject({
    code: 'MESSAGE_NOT_FOUND',
    message: expect.stringMatching(/no message/),
  });
  expect(await ask(bob, { action: 'followthread', seq: reply.seq, follow: true })).toMatchObject({
    code: 'BAD_REQUEST',
    message: expect.stringMatching(/follow that thread/),
  });
  expect(await ask(bob, { action: 'history', threadOf: reply.seq })).toMatchObject({ code: 'BAD_REQUEST' });

  // Nothing was stored: the room's next message takes the next seq, the thread holds its one reply, and Ana's own
  // room holds no message.
  expect((await ask(bob, { action: 'sendmessage', message: 'after the refusals' })).seq).toBe(last + 1);
  const thread = await ask(bob, { action: 'history', threadOf: root.seq });
  expect((thread.messages as Frame[]).map((m) => m.seq)).toEqual([reply.seq]);
  expect((thread.root as Frame).thread).toMatchObject({ replyCount: 1 });
  const own = await ask(ana, { action: 'history' });
  expect((own.messages as Frame[]).filter((m) => m.type === 'message')).toEqual([]);
});

it('a reply tells the root’s author and the thread’s followers on their other devices, until they unfollow', async () => {
  const ana = await device('ana');
  const bob = await device('bob');
  const carol = await device('carol');
  const { roomId } = await roomWith(ana, [bob, carol]);
  // Ana's and Carol's phones show rooms of their own: they hear of replies by `mention` frames.
  const anaPhone = await device('ana');
  await ask(anaPhone, { action: 'createroom' });
  const carolPhone = await device('carol');
  await ask(carolPhone, { action: 'createroom' });

  const root = await ask(ana, { action: 'sendmessage', message: 'who has the slides?' });
  const reply = await ask(bob, { action: 'sendmessage', message: 'I do', threadOf: root.seq });
  expect(await anaPhone.next((f) => f.type === 'mention')).toEqual({
    type: 'mention',
    roomId,
    seq: reply.seq,
    username: 'bob',
    text: 'I do',
    threadOf: root.seq,
  });

  // Carol follows the thread without replying: bob's next reply tells her too; once she unfollows, it does not.
  expect(await ask(carol, { action: 'followthread', seq: root.seq, follow: true })).toMatchObject({
    type: 'threadfollow',
    roomId,
    seq: root.seq,
    following: true,
  });
  const next = await ask(bob, { action: 'sendmessage', message: 'sending them now', threadOf: root.seq });
  expect(await carolPhone.next((f) => f.type === 'mention')).toMatchObject({
    seq: next.seq,
    threadOf: root.seq,
  });
  expect(await anaPhone.next((f) => f.type === 'mention')).toMatchObject({ seq: next.seq });
  expect((await ask(carol, { action: 'history', threadOf: root.seq })).following).toBe(true);

  await ask(carol, { action: 'followthread', seq: root.seq, follow: false });
  expect((await ask(carol, { action: 'history', threadOf: root.seq })).following).toBe(false);
  const last = await ask(bob, { action: 'sendmessage', message: 'done', threadOf: root.seq });
  expect(await anaPhone.next((f) => f.type === 'mention')).toMatchObject({ seq: last.seq });
  // Every fan-out over and its frames arrived: a mention Carol would have been sent is there by now.
  await chat.settle();
  expect(carolPhone.frames.filter((f) => f.type === 'mention').map((f) => f.seq)).toEqual([next.seq]);
  // Bob replied: he follows, yet his own replies never tell him.
  expect(bob.frames.filter((f) => f.type === 'mention')).toEqual([]);

  // A reply naming carol tells her as a room mention does, follower or not, and says its thread.
  const named = await ask(bob, { action: 'sendmessage', message: '@carol see above', threadOf: root.seq });
  expect(await carolPhone.next((f) => f.type === 'mention')).toMatchObject({
    seq: named.seq,
    threadOf: root.seq,
    username: 'bob',
  });
  expect((await carol.next(isMessage('@carol see above'))).mentions).toEqual(['carol']);
});

/** Writes `values` onto a root's item as the local admin: a thread brought to one below its cap without 999 sends. */
async function seedRoot(roomId: string, seq: number, update: string, values: Record<string, unknown>) {
  await localDocumentClient(chat.cloud.dynamoEndpoint).send(
    new UpdateCommand({
      TableName: String(chat.cloud.template.physicalId('MessagesTable')),
      Key: { roomId, seq },
      UpdateExpression: update,
      ExpressionAttributeValues: values,
    }),
  );
}

it('a thread takes 1,000 replies and 200 followers: the next of each is refused BAD_REQUEST, nothing stored', async () => {
  const ana = await device('ana');
  const bob = await device('bob');
  const carol = await device('carol');
  const { roomId, created } = await roomWith(ana, [bob, carol]);
  const root = await ask(ana, { action: 'sendmessage', message: 'the busy thread' });
  const rootSeq = Number(root.seq);
  await ask(bob, { action: 'sendmessage', message: 'reply one', threadOf: rootSeq });

  // 999 replies counted: the 1,000th is taken, the 1,001st refused naming the cap.
  await seedRoot(roomId, rootSeq, 'SET replyCount = :n', { ':n': 999 });
  const last = await ask(bob, { action: 'sendmessage', message: 'reply 1000', threadOf: rootSeq });
  expect(last).toMatchObject({ type: 'ack' });
  const refused = await ask(bob, { action: 'sendmessage', message: 'reply 1001', threadOf: rootSeq });
  expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  expect(refused.message).toMatch(/has 1000 replies, the most a thread takes/);
  // Nothing stored: the room's next message takes the next seq, and the thread's newest reply is the 1,000th.
  expect((await ask(ana, { action: 'sendmessage', message: 'in the room' })).seq).toBe(Number(last.seq) + 1);
  const thread = await ask(ana, { action: 'history', threadOf: rootSeq });
  expect((thread.messages as Frame[]).map((m) => m.text)).toEqual(['reply one', 'reply 1000']);
  expect((thread.root as Frame).thread).toMatchObject({ replyCount: 1000 });

  // A second root whose followers are one below 200: Carol is the 200th, Dan is refused, following stays false.
  const other = await ask(ana, { action: 'sendmessage', message: 'the popular thread' });
  const strangers = Array.from({ length: 199 }, (_, i) => `stranger-${i}`);
  await seedRoot(roomId, Number(other.seq), 'ADD followers :keys', { ':keys': new Set(strangers) });
  expect(await ask(carol, { action: 'followthread', seq: other.seq, follow: true })).toMatchObject({
    type: 'threadfollow',
    following: true,
  });
  const dan = await device('dan');
  await ask(dan, { action: 'joinroom', roomId, key: created.inviteKey });
  const full = await ask(dan, { action: 'followthread', seq: other.seq, follow: true });
  expect(full).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  expect(full.message).toMatch(/has 200 followers, the most a thread keeps/);
  expect(await ask(dan, { action: 'history', threadOf: other.seq })).toMatchObject({ following: false });
  // Carol, already a follower, follows again (idempotent) though the thread is full.
  expect(await ask(carol, { action: 'followthread', seq: other.seq, follow: true })).toMatchObject({
    following: true,
  });
});
