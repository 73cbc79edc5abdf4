import type { ChatClient, Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * The Threads view through the local cloud with sign-in (`mythreads`, functions/threads/followedThreads.ts): the
 * threads a person follows across its rooms, newest activity first, each with its room, its root and its unread
 * replies (replies since the person last opened the thread's page or replied there); a thread it never followed, or
 * stopped following, is not listed.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({
  FrameRateLimit: '100000',
  StrikeLimit: '100000',
  SendRateLimit: '1000',
  MentionNoticeSeconds: '0',
});
const { device, ask } = chat;

/** A room of `owner` that `members` joined; returns its code. */
async function roomWith(owner: ChatClient, members: ChatClient[]) {
  const created = await ask(owner, { action: 'createroom' });
  const roomId = String(created.roomId);
  for (const member of members) await ask(member, { action: 'joinroom', roomId, key: created.inviteKey });
  return roomId;
}

/** The caller's Threads view as `{roomId, seq, unread}`, in the order listed. */
async function threadsOf(client: ChatClient) {
  const frame = await ask(client, { action: 'mythreads' });
  expect(frame.type).toBe('mythreads');
  return (frame.threads as Frame[]).map((t) => ({ roomId: t.roomId, seq: t.seq, unread: t.unread }));
}

it('lists the threads a person follows across its rooms, newest activity first, with the replies it has not seen', async () => {
  const ana = await device('ana');
  const bob = await device('bob');
  const carol = await device('carol');
  const lunchRoom = await roomWith(ana, [bob, carol]);
  // Ana's second device shows another room, with bob only.
  const anaDesk = await device('ana');
  const bobDesk = await device('bob');
  const deskRoom = await roomWith(bobDesk, [anaDesk]);

  const lunch = await ask(ana, { action: 'sendmessage', message: 'lunch on friday?' });
  // A root nobody replied to or followed is no one's thread.
  await ask(ana, { action: 'sendmessage', message: 'anyone seen my keys?' });
  await ask(bob, { action: 'sendmessage', message: 'yes!', threadOf: lunch.seq });

  // Ana wrote the root: bob's reply is one she has not seen; bob's own reply is not unread for him.
  const [anaLunch] = (await ask(ana, { action: 'mythreads' })).threads as Frame[];
  expect(anaLunch).toMatchObject({
    roomId: lunchRoom,
    seq: lunch.seq,
    username: 'ana',
    text: 'lunch on friday?',
    replyCount: 1,
    participants: ['bob'],
    unread: 1,
  });
  expect(await threadsOf(ana)).toEqual([{ roomId: lunchRoom, seq: lunch.seq, unread: 1 }]);
  expect(await threadsOf(bob)).toEqual([{ roomId: lunchRoom, seq: lunch.seq, unread: 0 }]);
  // Carol neither wrote, replied nor followed: nothing.
  expect(await threadsOf(carol)).toEqual([]);

  // A thread of the other room, where ana replied and bob answered after: newest activity first, across rooms.
  const standup = await ask(bobDesk, { action: 'sendmessage', message: 'standup at 10?' });
  await ask(anaDesk, { action: 'sendmessage', message: 'fine by me', threadOf: standup.seq });
  await ask(bobDesk, { action: 'sendmessage', message: 'great', threadOf: standup.seq });
  expect(await threadsOf(ana)).toEqual([
    { roomId: deskRoom, seq: standup.seq, unread: 1 },
    { roomId: lunchRoom, seq: lunch.seq, unread: 1 },
  ]);

  // Opening a thread's page reads it: its count clears; the other's stays.
  const page = await ask(ana, { action: 'history', threadOf: lunch.seq });
  expect(page.following).toBe(true);
  expect(await threadsOf(ana)).toEqual([
    { roomId: deskRoom, seq: standup.seq, unread: 1 },
    { roomId: lunchRoom, seq: lunch.seq, unread: 0 },
  ]);

  // Carol follows: the replies so far are seen, the next one is not; once she stops following, it is not listed.
  await ask(carol, { action: 'followthread', seq: lunch.seq, follow: true });
  expect(await threadsOf(carol)).toEqual([{ roomId: lunchRoom, seq: lunch.seq, unread: 0 }]);
  await ask(bob, { action: 'sendmessage', message: 'noon?', threadOf: lunch.seq });
  expect(await threadsOf(carol)).toEqual([{ roomId: lunchRoom, seq: lunch.seq, unread: 1 }]);
  await ask(carol, { action: 'followthread', seq: lunch.seq, follow: false });
  expect(await threadsOf(carol)).toEqual([]);

  // Ana leaves the lunch room: its thread is no longer listed for her, the other room's is.
  await ask(ana, { action: 'leaveroom' });
  expect(await threadsOf(anaDesk)).toEqual([{ roomId: deskRoom, seq: standup.seq, unread: 1 }]);
});

// Users of their own: the test before left threads on ana's, bob's and carol's views.
it('a member named in a thread reply follows the thread: its later replies are unread in their Threads view and told live', async () => {
  const ines = await device('ines');
  const jon = await device('jon');
  const kim = await device('kim');
  const roomId = await roomWith(ines, [jon, kim]);
  // Jon's phone shows a room of its own: it hears of replies by `mention` frames.
  const jonPhone = await device('jon');
  await ask(jonPhone, { action: 'createroom' });

  const root = await ask(kim, { action: 'sendmessage', message: 'who books the venue?' });
  await ask(ines, { action: 'sendmessage', message: 'not me', threadOf: root.seq });
  // Jon neither wrote, replied nor followed: nothing yet.
  expect(await threadsOf(jon)).toEqual([]);

  // Ines names jon in the thread: he follows it from that reply on, which is the one he has not seen.
  const named = await ask(ines, {
    action: 'sendmessage',
    message: '@jon you know the owner?',
    threadOf: root.seq,
  });
  expect(await jonPhone.next((f) => f.type === 'mention' && f.seq === named.seq)).toMatchObject({
    threadOf: root.seq,
  });
  expect(await threadsOf(jon)).toEqual([{ roomId, seq: root.seq, unread: 1 }]);

  // Kim's next reply names nobody: jon hears of it as a follower, and his Threads view counts it unread.
  const later = await ask(kim, {
    action: 'sendmessage',
    message: 'thanks, booked for noon',
    threadOf: root.seq,
  });
  expect(await jonPhone.next((f) => f.type === 'mention' && f.seq === later.seq)).toMatchObject({
    roomId,
    threadOf: root.seq,
    username: 'kim',
  });
  expect(await threadsOf(jon)).toEqual([{ roomId, seq: root.seq, unread: 2 }]);
  const page = await ask(jon, { action: 'history', threadOf: root.seq });
  expect(page.following).toBe(true);
  expect(await threadsOf(jon)).toEqual([{ roomId, seq: root.seq, unread: 0 }]);
});
