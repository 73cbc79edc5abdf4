import type { Frame } from '../helpers/chatClient';
import { connect, roomOf, say, useChatCloud } from '../helpers/chatWorld';

/**
 * Any text within the protocol's limit is deliverable (docs/PROTOCOL.md, "Limits": 1–4,096 UTF-8 bytes, any
 * characters), also when JSON escaping makes it longest on the wire: 4,096 `"` (each `\"`), `\` (each `\\`) or
 * control characters (each `\u0001`, six bytes) sent through the normal send path reach a member intact, live and
 * in `history`; one byte more is refused MESSAGE_TOO_LARGE.
 */
jest.setTimeout(240_000);

useChatCloud();

const MAX = 4096;
const isText = (roomId: string, text: string) => (f: Frame) =>
  f.type === 'message' && f.roomId === roomId && f.text === text;

it.each([
  ['quotes', '"'],
  ['backslashes', '\\'],
  ['control characters', '\u0001'],
])('delivers a 4,096-byte text of %s to a member intact, live and in history', async (what, char) => {
  const alice = await connect(`alice-esc-${what.split(' ')[0]}`);
  const bob = await connect(`bob-esc-${what.split(' ')[0]}`);
  const roomId = await roomOf(alice, bob);
  // Framed by a letter at each end: trimming would drop a leading or trailing control character.
  const text = `a${char.repeat(MAX - 2)}z`;
  expect(Buffer.byteLength(text)).toBe(MAX);
  const ack = await say(alice, text);
  expect(ack).toMatchObject({ type: 'ack', roomId });
  const heard = await bob.next(isText(roomId, text));
  expect(heard.seq).toBe(ack.seq);
  const history = await bob.expectReply({ action: 'history', roomId });
  expect((history.messages as Frame[]).find((m) => m.seq === ack.seq)?.text).toBe(text);
});

it('refuses a text one byte past the limit with MESSAGE_TOO_LARGE, and stores nothing', async () => {
  const carol = await connect('carol-esc');
  const dave = await connect('dave-esc');
  const roomId = await roomOf(carol, dave);
  const reply = await carol.ask({ action: 'sendmessage', message: '"'.repeat(MAX + 1) });
  expect(reply).toMatchObject({ type: 'error', code: 'MESSAGE_TOO_LARGE' });
  const history = await dave.expectReply({ action: 'history', roomId });
  expect(history.messages).toEqual([]);
});
