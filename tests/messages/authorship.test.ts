import type { Frame } from '../helpers/chatClient';
import { connect, createRoom, joinRoom, say, useChatCloud } from '../helpers/chatWorld';

/**
 * Authorship by identity, not by name: every message carries its author's key in the room (`authorKey`), and
 * `joined` tells each member its own (`memberKey`). Someone who takes a name after its first holder left shows that
 * name, but the first holder's messages are not theirs: not by key, and the server refuses them an edit.
 */
jest.setTimeout(240_000);

useChatCloud();

it("a second 'sam' after the first left sees the first one's messages as someone else's, and cannot edit them", async () => {
  const owner = await connect('olga-auth');
  const roomId = await createRoom(owner);
  const first = await connect('sam-auth');
  const firstJoined = await first.expectReply({ action: 'joinroom', roomId });
  const ack = await say(first, 'from the first sam');
  const live = await owner.next((f: Frame) => f.type === 'message' && f.seq === ack.seq);
  expect(live.authorKey).toBe(firstJoined.memberKey);
  expect(typeof firstJoined.memberKey).toBe('string');
  await first.close();
  await owner.next((f: Frame) => f.type === 'presence' && f.event === 'leave' && f.username === 'sam-auth');

  const second = await connect('sam-auth');
  const secondJoined = await joinRoom(second, roomId, [owner]);
  const history = await second.expectReply({ action: 'history' });
  const old = (history.messages as Frame[]).find((m) => m.seq === ack.seq) as Frame;
  // The same name, another person: the keys differ.
  expect(old.username).toBe('sam-auth');
  expect(old.authorKey).toBe(firstJoined.memberKey);
  expect(secondJoined.memberKey).not.toBe(firstJoined.memberKey);
  const refused = await second.ask({ action: 'editmessage', seq: ack.seq, message: 'mine now' });
  expect(refused).toMatchObject({ type: 'error', code: 'NOT_AUTHOR' });
});
