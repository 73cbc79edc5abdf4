import type { MyRoom, RoomcastClient } from '@roomcast/client';
import { deleteConnection } from '../helpers/localCloud';
import { signedInCloud } from '../helpers/signedIn';

/**
 * The client library's read positions, rooms and direct messages against the local cloud with sign-in: after a
 * dropped connection it tells the app each room's unread count by itself, its markRead is coalesced, and a direct
 * room is resumed like any other.
 */
jest.setTimeout(240_000);

const signIn = signedInCloud({ FrameRateLimit: '1000' });
const signedIn = signIn.library;

/** The next `rooms` event. */
const nextRooms = (chat: RoomcastClient) =>
  new Promise<MyRoom[]>((resolve) => {
    const off = chat.rooms.on('rooms', (rooms) => {
      off();
      resolve(rooms);
    });
  });

it('tells the app every room’s unread count after a reconnect, and coalesces markRead', async () => {
  const alice = signedIn('alice', { trackRooms: true, readIntervalMs: 1000 });
  const bob = signedIn('bob');
  await Promise.all([alice.ready(20_000), bob.ready(20_000)]);
  const created = await alice.createRoom();
  await bob.join(created.roomId, created.inviteKey);
  for (const text of ['a', 'b', 'c', 'd']) await bob.send(text);

  // Three reads in a row: the first goes at once, the next two wait out the interval and go as one, the highest.
  // The interval is real time, so on a loaded machine the second may leave before the first is answered and be
  // taken first; the server keeps the higher position, so the first answer says 1 or 3 (the pacing itself is
  // timed on a fake clock in tests/client/readPacing.test.ts). Two requests, the last two reads one answer, hold
  // whatever the order.
  let marks = 0;
  alice.on('frame', ({ frame }) => {
    if (frame?.type === 'read') marks++;
  });
  const reads = await Promise.all([1, 2, 3].map((seq) => alice.rooms.markRead(seq)));
  expect(reads[1]).toBe(reads[2]);
  expect(reads[2]?.lastReadSeq).toBe(3);
  expect([1, 3]).toContain(reads[0]?.lastReadSeq);
  expect(marks).toBe(2);
  expect(await alice.rooms.markRead(2)).toBeUndefined();

  // The network drops her connection: the client reconnects, rejoins, and reports one unread message.
  const roomsAfter = nextRooms(alice);
  await deleteConnection(signIn.cloud.gateway.callbackUrl, (await alice.info()).connectionId);
  const rooms = await roomsAfter;
  expect(rooms.find((r) => r.roomId === created.roomId)).toMatchObject({
    unread: 1,
    lastReadSeq: 3,
    lastSeq: 4,
  });
  expect(alice.roomId).toBe(created.roomId);
});

it('opens a direct room by name, finds it again by id, and resumes it after a reconnect', async () => {
  const carol = signedIn('carol');
  const dave = signedIn('dave');
  await Promise.all([carol.ready(20_000), dave.ready(20_000)]);
  const created = await carol.createRoom();
  await dave.join(created.roomId, created.inviteKey);

  const seen = await carol.rooms.seenBy();
  const daveId = seen.members.find((m) => m.username === 'dave')?.userId as string;
  expect(daveId).toMatch(/^user:/);
  const opened = await carol.rooms.openDirect({ userId: daveId });
  expect(carol.roomId).toBe(opened.roomId);
  await carol.send('just us');

  const daves = await dave.rooms.myRooms();
  const dm = daves.find((r) => r.dm?.userId !== undefined);
  expect(dm).toMatchObject({ roomId: opened.roomId, unread: 1, dm: { username: 'carol' } });
  const back = await dave.rooms.openDirect({ userId: dm?.dm?.userId as string });
  expect(back.roomId).toBe(opened.roomId);

  const texts: string[] = [];
  carol.on('message', (m) => texts.push(m.text));
  await deleteConnection(signIn.cloud.gateway.callbackUrl, (await carol.info()).connectionId);
  await dave.send('still there?');
  const deadline = Date.now() + 90_000;
  while (!texts.includes('still there?') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  expect(texts).toContain('still there?');
  expect(carol.roomId).toBe(opened.roomId);
  await expect(carol.rooms.openDirect({ userId: 'someone' })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
  });
});

it('counts live, and in myrooms, only messages from others: not reactions, edits or her own', async () => {
  const alice = signedIn('erin', { readIntervalMs: 0 });
  const bob = signedIn('finn');
  await Promise.all([alice.ready(20_000), bob.ready(20_000)]);
  const created = await alice.createRoom();
  await bob.join(created.roomId, created.inviteKey);
  const first = await bob.send('before');
  await alice.rooms.markRead(first.seq);
  const listed = await alice.rooms.myRooms();
  expect(listed.find((r) => r.roomId === created.roomId)).toMatchObject({ unread: 0 });

  // After her read position: three messages from Bob, two reactions, one edit, and two of her own.
  const latest = new Promise<void>((resolve) => {
    const off = alice.rooms.on('rooms', (rooms) => {
      if ((rooms.find((r) => r.roomId === created.roomId)?.lastSeq ?? 0) < 9) return;
      off();
      resolve();
    });
  });
  const one = await bob.send('one');
  await alice.send('mine');
  await bob.messages.react(one.seq, '👍');
  const two = await bob.send('two');
  await bob.messages.edit(two.seq, 'two!');
  await alice.messages.react(two.seq, '🎉');
  await alice.send('also mine');
  const three = await bob.send('three');
  expect(three.seq).toBe(9);
  await latest;
  expect(alice.rooms.list.find((r) => r.roomId === created.roomId)).toMatchObject({
    lastSeq: 9,
    lastReadSeq: first.seq,
    unread: 3,
  });
  // A fresh start (myrooms) says the same.
  const fresh = await alice.rooms.myRooms();
  expect(fresh.find((r) => r.roomId === created.roomId)).toMatchObject({ unread: 3 });
  // Bob's count is her two messages (the room is his too: he joined it).
  expect((await bob.rooms.myRooms()).find((r) => r.roomId === created.roomId)).toMatchObject({ unread: 2 });
});
