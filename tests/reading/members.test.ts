import { type ChatClient, type Frame, isError } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Read positions, "my rooms" and direct messages against the local cloud with sign-in (AuthMode=oidc, the dev
 * issuer): a user is its (iss, sub), the same on every device. SeenByMaxMembers is 2 here so both sides of the
 * "seen by" bound are a few connections away.
 */
jest.setTimeout(240_000);

describe('read positions and direct messages', () => {
  const { device, ask } = signedInCloud({ SeenByMaxMembers: '2', FrameRateLimit: '1000' });

  /** A room alice created with bob in it, and three messages from bob. */
  async function roomWithMessages(alice: ChatClient, bob: ChatClient) {
    const created = await ask(alice, { action: 'createroom' });
    const roomId = created.roomId as string;
    await ask(bob, { action: 'joinroom', roomId, key: created.inviteKey });
    for (const text of ['one', 'two', 'three']) {
      const ack = await ask(bob, { action: 'sendmessage', message: text });
      expect(ack.type).toBe('ack');
    }
    return roomId;
  }

  const roomIn = (frame: Frame, roomId: string) =>
    (frame.rooms as Record<string, unknown>[]).find((r) => r.roomId === roomId);

  it('keeps a read position across a reconnect and across two devices of one user', async () => {
    const phone = await device('alice');
    const bob = await device('bob');
    const roomId = await roomWithMessages(phone, bob);

    expect(await ask(phone, { action: 'markread', seq: 1 })).toMatchObject({
      type: 'read',
      roomId,
      lastReadSeq: 1,
    });
    await phone.close();

    // A new connection of alice's (after a reconnect, or her laptop) learns how much is unread.
    const laptop = await device('alice');
    const mine = await ask(laptop, { action: 'myrooms' });
    expect(roomIn(mine, roomId)).toMatchObject({ lastSeq: 3, lastReadSeq: 1, unread: 2 });

    // Read on one device, it is read on the other; a late, lower mark never moves it back.
    const tablet = await device('alice');
    await ask(tablet, { action: 'joinroom', roomId, key: roomIn(mine, roomId)?.inviteKey });
    expect(await ask(tablet, { action: 'markread', seq: 3 })).toMatchObject({ lastReadSeq: 3 });
    expect(roomIn(await ask(laptop, { action: 'myrooms' }), roomId)).toMatchObject({ unread: 0 });
    expect(await ask(tablet, { action: 'markread', seq: 2 })).toMatchObject({ lastReadSeq: 3 });

    // Leaving the room takes it off her list, on every device.
    await ask(tablet, { action: 'leaveroom' });
    expect(roomIn(await ask(laptop, { action: 'myrooms' }), roomId)).toBeUndefined();
  });

  it('gives the same pair the same direct room from either side, listed for the other with its unread count', async () => {
    const alice = await device('dana');
    const bob = await device('eli');
    const created = await ask(alice, { action: 'createroom' });
    await ask(bob, { action: 'joinroom', roomId: created.roomId, key: created.inviteKey });

    // Dana messages Eli by the name her room shows him; the reply names him by id.
    const fromDana = await ask(alice, { action: 'opendm', username: 'eli' });
    expect(fromDana).toMatchObject({ type: 'joined', dm: { username: 'eli' } });
    const dmRoom = fromDana.roomId as string;
    expect(dmRoom).toMatch(/^[A-HJ-NP-Z2-9]{12}$/);
    const eliId = (fromDana.dm as { userId: string }).userId;

    await ask(alice, { action: 'sendmessage', message: 'are you there?' });
    await ask(alice, { action: 'sendmessage', message: 'ping me' });

    // Eli, still in the other room, finds it in his rooms: who it is with, and two unread.
    const his = await ask(bob, { action: 'myrooms' });
    expect(roomIn(his, dmRoom)).toMatchObject({ unread: 2, lastReadSeq: 0, dm: { username: 'dana' } });
    const danaId = (roomIn(his, dmRoom)?.dm as { userId: string } | undefined)?.userId;
    expect(danaId).toMatch(/^user:/);
    expect(danaId).not.toBe(eliId);

    // Opened from his side by her id, it is the same room, with her messages in it.
    const fromEli = await ask(bob, { action: 'opendm', userId: danaId });
    expect(fromEli).toMatchObject({
      type: 'joined',
      roomId: dmRoom,
      dm: { userId: danaId, username: 'dana' },
    });
    expect((fromEli.history as Frame[]).map((m) => m.text)).toEqual(['are you there?', 'ping me']);
    // And again from hers: still the same room.
    expect((await ask(alice, { action: 'opendm', userId: eliId })).roomId).toBe(dmRoom);
  });

  it('refuses a third user the pair’s room exactly as a wrong code, and a DM with oneself', async () => {
    const alice = await device('fay');
    const bob = await device('gus');
    const created = await ask(alice, { action: 'createroom' });
    await ask(bob, { action: 'joinroom', roomId: created.roomId, key: created.inviteKey });
    const dmRoom = (await ask(alice, { action: 'opendm', username: 'gus' })).roomId as string;

    const carol = await device('hal');
    const refused = await ask(carol, { action: 'joinroom', roomId: dmRoom });
    const unknown = await ask(carol, { action: 'joinroom', roomId: 'ZZZZZZZZZZZZ' });
    expect(refused).toMatchObject({ type: 'error', code: 'ROOM_NOT_FOUND' });
    expect(String(refused.message).replace(dmRoom, 'X')).toBe(
      String(unknown.message).replace('ZZZZZZZZZZZZ', 'X'),
    );
    // Gus himself gets back in by the code alone.
    expect(await ask(bob, { action: 'joinroom', roomId: dmRoom })).toMatchObject({
      type: 'joined',
      roomId: dmRoom,
    });

    const me = (await ask(bob, { action: 'myrooms' })).rooms as { dm?: { userId: string } }[];
    const fayId = me.find((r) => r.dm)?.dm?.userId;
    const self = await ask(alice, { action: 'opendm', userId: fayId });
    expect(self).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  });

  it('shows who has read what in rooms up to SeenByMaxMembers, and nothing above it', async () => {
    const alice = await device('ida');
    const bob = await device('jon');
    const roomId = await roomWithMessages(alice, bob);
    await ask(bob, { action: 'markread', seq: 3 });
    await ask(alice, { action: 'markread', seq: 2 });

    const seen = await ask(alice, { action: 'seenby' });
    expect(seen).toMatchObject({ type: 'seenby', roomId, memberCount: 2, tooLarge: false });
    const positions = Object.fromEntries((seen.members as Frame[]).map((m) => [m.username, m.lastReadSeq]));
    expect(positions).toEqual({ ida: 2, jon: 3 });
    expect((seen.members as Frame[]).every((m) => String(m.userId).startsWith('user:'))).toBe(true);

    const third = await device('kim');
    // Kim joins by the code alone (the room's key is not required until the owner rotates it).
    expect(await ask(third, { action: 'joinroom', roomId })).toMatchObject({ type: 'joined' });
    const over = await ask(alice, { action: 'seenby' });
    expect(over).toMatchObject({ tooLarge: true, memberCount: 3, members: [] });
  });

  it('keeps a room on its owner’s list through key rotations, and takes it off a removed member’s and a closed room’s', async () => {
    const owner = await device('max');
    const guest = await device('ned');
    const created = await ask(owner, { action: 'createroom' });
    const roomId = created.roomId as string;
    await ask(guest, { action: 'joinroom', roomId, key: created.inviteKey });
    expect(roomIn(await ask(guest, { action: 'myrooms' }), roomId)).toBeDefined();

    const removed = await ask(owner, { action: 'removemember', username: 'ned' });
    expect(removed).toMatchObject({ type: 'memberremoved', removed: 1 });
    // Ned's key no longer gets in: the room is off his list. Max's list gives him the new key.
    expect(roomIn(await ask(guest, { action: 'myrooms' }), roomId)).toBeUndefined();
    expect(roomIn(await ask(owner, { action: 'myrooms' }), roomId)).toMatchObject({
      inviteKey: removed.inviteKey,
    });

    await ask(owner, { action: 'closeroom' });
    expect(roomIn(await ask(owner, { action: 'myrooms' }), roomId)).toBeUndefined();
  });

  it('refuses markread past the room’s latest message, naming it; the unread count still rises after', async () => {
    const alice = await device('olga');
    const bob = await device('piet');
    const roomId = await roomWithMessages(alice, bob);
    await ask(alice, { action: 'markread', seq: 1 });

    const refused = await ask(alice, { action: 'markread', seq: 99999 });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'markread' });
    expect(refused.message).toContain('seq 99999 is after');
    expect(refused.message).toContain('latest event, 3');
    // Nothing was stored: her position is where it was, and "seen by" says so.
    const seen = await ask(bob, { action: 'seenby' });
    expect((seen.members as Frame[]).find((m) => m.username === 'olga')).toMatchObject({ lastReadSeq: 1 });
    expect(roomIn(await ask(alice, { action: 'myrooms' }), roomId)).toMatchObject({
      lastReadSeq: 1,
      unread: 2,
    });

    await ask(bob, { action: 'sendmessage', message: 'four' });
    expect(roomIn(await ask(alice, { action: 'myrooms' }), roomId)).toMatchObject({ lastSeq: 4, unread: 3 });
  });

  it('refuses markread in the lobby with a clear error, and a bad seq as a bad request', async () => {
    const alice = await device('lea');
    expect(await ask(alice, { action: 'markread', seq: 1 })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/lobby/),
    });
    await ask(alice, { action: 'createroom' });
    expect(await ask(alice, { action: 'markread', seq: -1 })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await ask(alice, { action: 'opendm' })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(isError('BAD_REQUEST')(await ask(alice, { action: 'opendm', userId: 'user:nope' }))).toBe(true);
  });
});
