import { type RoomcastClient, RoomMessages } from '@roomcast/client';
import { libraryClient, libraryCloud } from '../helpers/libraryMember';
import { deleteConnection } from '../helpers/localCloud';

/**
 * The client library's message changes against the local cloud: typed edit, delete and reaction calls, and a
 * RoomMessages store that ends in the message's final state on every member, one whose connection was dropped
 * while the changes were made included (it resumes and catches up from history).
 */
jest.setTimeout(240_000);

const testCloud = libraryCloud();
const { clients } = testCloud;

function member(username: string): { chat: RoomcastClient; store: RoomMessages } {
  const chat = libraryClient(testCloud.cloud.wsUrl, username, clients);
  return { chat, store: new RoomMessages(chat) };
}

async function until(condition: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

it('edits, deletes and reactions reach every store, also one that resumed after its connection was dropped', async () => {
  const alice = member('alice-store');
  const bob = member('bob-store');
  await Promise.all([alice.chat.ready(30_000), bob.chat.ready(30_000)]);
  const { roomId } = await alice.chat.createRoom();
  await bob.chat.join(roomId);
  const keep = await alice.chat.send('see you at 5');
  const drop = await alice.chat.send('my password is hunter2');
  await until(() => bob.store.list().length === 2, "bob's store to hold both messages");

  await bob.chat.messages.react(keep.seq, '👍');
  expect(bob.store.get(keep.seq)?.reactions).toEqual([
    { reaction: '👍', count: 1, mine: true, by: ['bob-store'] },
  ]);
  await until(
    () => alice.store.get(keep.seq)?.reactions?.[0]?.count === 1,
    "alice's store to count bob's 👍",
  );

  const { connectionId } = await bob.chat.info();
  await deleteConnection(testCloud.cloud.gateway.callbackUrl, connectionId);
  await alice.chat.messages.edit(keep.seq, 'see you at 6');
  await alice.chat.messages.delete(drop.seq);
  await alice.chat.messages.react(keep.seq, '👍');

  for (const { store } of [alice, bob]) {
    await until(() => store.get(keep.seq)?.reactions?.[0]?.count === 2, 'the second 👍 in every store');
    expect(store.get(keep.seq)).toMatchObject({ text: 'see you at 6', editedAt: expect.any(String) });
    expect(store.get(drop.seq)).toMatchObject({ text: '', deleted: 'author' });
  }
  expect(bob.store.get(keep.seq)?.reactions?.[0]?.mine).toBe(true);
  await expect(bob.chat.messages.edit(keep.seq, 'not mine')).rejects.toMatchObject({ code: 'NOT_AUTHOR' });
  await expect(alice.chat.messages.react(keep.seq, 'thumbs up')).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
  });
});
