import { type ChatClient, type Frame, isPresence } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * A ban by identity, signed in (AuthMode=oidc): a moderator bans a member, who is moved out as `removemember` moves
 * it; a new connection of the same user (another device, another display name) is refused BANNED on every way back
 * in (the old link, the new link, `subscribe`) until the ban is lifted.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({ JoinGuessLimit: '1000' });
const opened: ChatClient[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
});

/** A connection of the user `sub-<user>` showing `name`: the same user under any name. */
async function deviceOf(user: string, name: string): Promise<ChatClient> {
  const client = await chat.deviceShowing(user, name);
  opened.push(client);
  return client;
}

const refusedCode = (reply: Frame) => (reply.type === 'error' ? reply.code : reply.type);

it("a banned user's new connections are refused BANNED, under any name and key, until unbanned", async () => {
  const [alice, carol, bob] = await Promise.all([
    deviceOf('alice', 'alice'),
    deviceOf('carol', 'carol'),
    deviceOf('bob', 'bob'),
  ]);
  const created = await chat.ask(alice, { action: 'createroom' });
  const roomId = created.roomId as string;
  const oldKey = created.inviteKey as string;
  for (const [member, name] of [
    [carol, 'carol'],
    [bob, 'bob'],
  ] as const) {
    expect((await chat.ask(member, { action: 'joinroom', roomId, key: oldKey })).type).toBe('joined');
    await alice.next(isPresence(roomId, 'join', name));
  }
  expect((await chat.ask(alice, { action: 'setrole', username: 'carol', role: 'moderator' })).type).toBe(
    'rolechanged',
  );
  // A moderator may not ban the owner.
  expect(await chat.ask(carol, { action: 'ban', username: 'alice' })).toMatchObject({ code: 'FORBIDDEN' });

  const banned = await chat.ask(carol, { action: 'ban', username: 'bob' });
  expect(banned).toMatchObject({ type: 'banned', roomId, username: 'bob', removed: 1 });
  const newKey = banned.inviteKey as string;
  expect(newKey).not.toBe(oldKey);
  const told = await bob.next((f) => f.type === 'removed');
  expect(told.message).toMatch(/banned/);
  await alice.next(isPresence(roomId, 'leave', 'bob'));
  // bob's open connection is out: a post to the room is refused.
  expect(refusedCode(await chat.ask(bob, { action: 'sendmessage', roomId, message: 'back?' }))).toBe(
    'NOT_SUBSCRIBED',
  );

  // A new connection of the same user, under a new name: the old link, the new link, and subscribe all say BANNED.
  const again = await deviceOf('bob', 'robert');
  expect(refusedCode(await chat.ask(again, { action: 'joinroom', roomId, key: oldKey }))).toBe('BANNED');
  const withNewKey = await chat.ask(again, { action: 'joinroom', roomId, key: newKey });
  expect(withNewKey).toMatchObject({ type: 'error', code: 'BANNED' });
  expect(withNewKey.message).toMatch(/banned/);
  const subscribed = await chat.ask(again, { action: 'subscribe', rooms: [{ roomId, key: newKey }] });
  expect(subscribed.refused).toEqual([expect.objectContaining({ roomId, code: 'BANNED' })]);
  // Another user with the same link gets in.
  const dave = await deviceOf('dave', 'dave');
  expect((await chat.ask(dave, { action: 'joinroom', roomId, key: newKey })).type).toBe('joined');

  expect(await chat.ask(carol, { action: 'unban', username: 'nobody' })).toMatchObject({
    code: 'BAD_REQUEST',
  });
  expect((await chat.ask(carol, { action: 'unban', username: 'bob' })).type).toBe('unbanned');
  const back = await chat.ask(again, { action: 'joinroom', roomId, key: newKey });
  expect(back.type).toBe('joined');
});
