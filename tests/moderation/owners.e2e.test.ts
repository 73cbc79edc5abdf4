import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type ChatClient, type Frame, isMessage, isPresence } from '../helpers/chatClient';
import { roomCloud, say } from '../helpers/roomCloud';

/**
 * Rooms have an owner and an end, as users see it through the local cloud: a room that went RoomIdleDays without a
 * message is refused whether or not DynamoDB's TTL has deleted it (the local DynamoDB never does), and its creator
 * can rotate the invite key, remove a member and close the room, which nobody else can.
 */
jest.setTimeout(240_000);

// Owner actions are few; the limits stay at their defaults except the guesses, which these joins would spend.
const stage = roomCloud({ settings: { JoinGuessLimit: '1000' } });
const { connect, roomOf } = stage;

async function roomItem(roomId: string) {
  const { Item } = await stage.db.send(
    new GetItemCommand({
      TableName: stage.table('RoomsTable'),
      Key: { roomId: { S: roomId } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

const join = (client: ChatClient, roomId: string, key?: string) =>
  client.ask({ action: 'joinroom', roomId, ...(key !== undefined && { key }) });

describe('a room ends after RoomIdleDays without a message', () => {
  it('a new room ends RoomIdleDays (default 30) from now, and a message moves its end on', async () => {
    const alice = await connect('alice-ttl');
    const before = Math.floor(Date.now() / 1000);
    const { roomId } = await roomOf(alice);
    const created = Number((await roomItem(roomId))?.ttl?.N);
    expect(created).toBeGreaterThanOrEqual(before + 30 * 86400);
    expect(created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 30 * 86400);
    // The room's end as if it had been created a day ago; the message brings it back to 30 days from now.
    await stage.db.send(
      new UpdateItemCommand({
        TableName: stage.table('RoomsTable'),
        Key: { roomId: { S: roomId } },
        UpdateExpression: 'SET #ttl = :t',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':t': { N: String(created - 86400) } },
      }),
    );
    expect((await say(alice, 'still here')).type).toBe('ack');
    expect(Number((await roomItem(roomId))?.ttl?.N)).toBeGreaterThanOrEqual(created);
  });

  it('once its TTL has passed, the room refuses joins (even with its key) and sends, though its item is still there', async () => {
    const alice = await connect('alice-expired');
    const bob = await connect('bob-expired');
    const { roomId, key } = await roomOf(alice);
    await stage.db.send(
      new UpdateItemCommand({
        TableName: stage.table('RoomsTable'),
        Key: { roomId: { S: roomId } },
        UpdateExpression: 'SET #ttl = :t',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':t': { N: String(Math.floor(Date.now() / 1000) - 1) } },
      }),
    );
    expect(await roomItem(roomId)).toBeDefined();
    const sent = await say(alice, 'anyone?');
    expect(sent).toMatchObject({ type: 'error', code: 'ROOM_CLOSED', action: 'sendmessage' });
    expect(sent.message).toMatch(/expired/);
    const joined = await join(bob, roomId, key);
    expect(joined).toMatchObject({ type: 'error', code: 'ROOM_CLOSED', action: 'joinroom' });
    expect(joined.message).toMatch(/expired/);
    expect(Number((await roomItem(roomId))?.seq?.N)).toBe(0);
  });
});

describe('the owner rotates the invite key', () => {
  it('the old key and the code alone stop working, the new key works, and members get the new key', async () => {
    const owner = await connect('olive-rotate');
    const member = await connect('mona-rotate');
    const late = await connect('lars-rotate');
    const { roomId, key } = await roomOf(owner, member);
    const rotated = await owner.expectReply({ action: 'rotatekey' });
    expect(rotated).toMatchObject({
      type: 'keyrotated',
      roomId,
      inviteKey: expect.stringMatching(/^[\w-]{16}$/),
    });
    expect(rotated.inviteKey).not.toBe(key);
    const pushed = await member.next((f) => f.type === 'keyrotated');
    expect(pushed).toMatchObject({ roomId, inviteKey: rotated.inviteKey });
    expect(await join(late, roomId, key)).toMatchObject({ type: 'error', code: 'KEY_REPLACED' });
    expect(await join(late, roomId)).toMatchObject({ type: 'error', code: 'ROOM_NOT_FOUND' });
    expect(await join(late, roomId, rotated.inviteKey as string)).toMatchObject({ type: 'joined', roomId });
  });
});

describe('the owner removes a member', () => {
  it('the member is told, moved to the lobby, the room hears it leave, and its link no longer gets it back in', async () => {
    const owner = await connect('olive-remove');
    const bob = await connect('bob-remove');
    const carol = await connect('carol-remove');
    const { roomId, key } = await roomOf(owner, bob, carol);
    const reply = await owner.expectReply({ action: 'removemember', username: 'bob-remove' });
    expect(reply).toMatchObject({ type: 'memberremoved', roomId, username: 'bob-remove', removed: 1 });
    const removed = await bob.next((f) => f.type === 'removed');
    expect(removed).toMatchObject({ roomId, message: expect.stringMatching(/removed you/) });
    await carol.next(isPresence(roomId, 'leave', 'bob-remove'));
    // Carol stays and gets the new key (her own rejoin after a reconnect keeps working); Bob does not.
    expect(await carol.next((f) => f.type === 'keyrotated')).toMatchObject({ inviteKey: reply.inviteKey });
    expect(bob.frames.some((f) => f.type === 'keyrotated')).toBe(false);
    expect((await bob.expectReply({ action: 'help' })).roomId).toBe('lobby');
    // Bob's message goes to the lobby now, not to the room.
    expect(await say(bob, 'back in the lobby')).toMatchObject({ type: 'ack', roomId: 'lobby' });
    expect(await join(bob, roomId, key)).toMatchObject({ type: 'error', code: 'KEY_REPLACED' });
    expect(await join(bob, roomId)).toMatchObject({ type: 'error', code: 'ROOM_NOT_FOUND' });
    expect(await say(carol, 'still here')).toMatchObject({ type: 'ack', roomId });
  });
});

describe('the owner closes the room', () => {
  it('every member is told and moved to the lobby; joins and sends are refused from then on', async () => {
    const owner = await connect('olive-close');
    const bob = await connect('bob-close');
    const carol = await connect('carol-close');
    const { roomId, key } = await roomOf(owner, bob);
    const reply = await owner.expectReply({ action: 'closeroom' });
    expect(reply).toMatchObject({ type: 'roomclosed', roomId });
    expect(await bob.next((f) => f.type === 'roomclosed')).toMatchObject({
      roomId,
      message: expect.stringMatching(/closed by its owner/),
    });
    for (const member of [owner, bob]) {
      expect((await member.expectReply({ action: 'help' })).roomId).toBe('lobby');
      expect(await say(member, `lobby again ${member.username}`)).toMatchObject({
        type: 'ack',
        roomId: 'lobby',
      });
    }
    expect(await join(bob, roomId, key)).toMatchObject({ type: 'error', code: 'ROOM_CLOSED' });
    expect(await join(carol, roomId, key)).toMatchObject({ type: 'error', code: 'ROOM_CLOSED' });
    // The owner can't bring it back either.
    expect(await join(owner, roomId, key)).toMatchObject({ type: 'error', code: 'ROOM_CLOSED' });
    expect(bob.frames.some(isMessage(roomId))).toBe(false);
  });

  it('a member whose send races the close gets ROOM_CLOSED, never a message in the closed room', async () => {
    const owner = await connect('olive-race');
    const bob = await connect('bob-race');
    const { roomId } = await roomOf(owner, bob);
    const closing = owner.expectReply({ action: 'closeroom' });
    const sent = await say(bob, 'last words');
    await closing;
    const stored = Number((await roomItem(roomId))?.seq?.N);
    if (sent.type === 'ack') expect(sent.roomId === 'lobby' || stored === sent.seq).toBe(true);
    else expect(sent).toMatchObject({ type: 'error', code: 'ROOM_CLOSED' });
    // The fan-out moves bob, then tells him: once told, his sends go to the lobby.
    await bob.next((f) => f.type === 'roomclosed' && f.roomId === roomId);
    expect(await say(bob, 'after')).toMatchObject({ type: 'ack', roomId: 'lobby' });
  });
});

describe('only the owner', () => {
  it('a member who did not create the room is refused FORBIDDEN for every owner action, and nothing changes', async () => {
    const owner = await connect('olive-forbid');
    const mallory = await connect('mallory-forbid');
    const { roomId, key } = await roomOf(owner, mallory);
    const refusals: Frame[] = [];
    for (const frame of [
      { action: 'rotatekey' },
      { action: 'removemember', username: 'olive-forbid' },
      { action: 'closeroom' },
    ]) {
      const reply = await mallory.ask(frame);
      expect(reply).toMatchObject({ type: 'error', code: 'FORBIDDEN', action: frame.action });
      expect(reply.message).toMatch(/Only the member who created room/);
      refusals.push(reply);
    }
    expect(refusals).toHaveLength(3);
    const item = await roomItem(roomId);
    expect(item?.inviteKey?.S).toBe(key);
    expect(item?.closedAt).toBeUndefined();
    expect((await owner.expectReply({ action: 'help' })).roomId).toBe(roomId);
    expect(await say(owner, 'still mine')).toMatchObject({ type: 'ack', roomId });
    expect(owner.frames.some((f) => f.type === 'removed' || f.type === 'roomclosed')).toBe(false);
  });

  it('in the lobby every owner action is refused FORBIDDEN', async () => {
    const eve = await connect('eve-lobby-owner');
    for (const action of ['rotatekey', 'closeroom']) {
      expect(await eve.ask({ action })).toMatchObject({ type: 'error', code: 'FORBIDDEN', action });
    }
    expect(await eve.ask({ action: 'removemember', username: 'someone' })).toMatchObject({
      type: 'error',
      code: 'FORBIDDEN',
    });
  });
});
