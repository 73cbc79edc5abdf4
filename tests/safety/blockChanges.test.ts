import type { Frame } from '../helpers/chatClient';
import { said, signedInCloud } from '../helpers/signedIn';

/**
 * A block holds for a direct message's changes as for its sends, through the local cloud with sign-in: once Ana
 * blocks Ben, his edit of a message he wrote her and his reaction to hers are refused with the send's sentence (never
 * "blocked"), and neither reaches her; his delete of his own message goes through (it only takes away); Ana's own
 * reaction there is refused, telling her to unblock; unblocked, his edit reaches her again.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '1000' });

/** Frames that would show Ana a change in the room: an edit, a reaction, a pin. */
const changesIn = (frames: Frame[], roomId: string) =>
  frames.filter(
    (f) => ['edited', 'reaction', 'pinned'].includes(String(f.type)) && (f.roomId ?? roomId) === roomId,
  );

it("a blocked person's edits and reactions in a direct message never reach the blocker", async () => {
  const ana = await chat.device('ana');
  const ben = await chat.device('ben');
  const dm = (await ben.expectReply({ action: 'opendm', username: 'ana' })) as { roomId: string };
  await ana.next((f) => f.type === 'dmopened');
  await ben.expectReply({ action: 'joinroom', roomId: dm.roomId });
  await ana.expectReply({ action: 'joinroom', roomId: dm.roomId });
  const his = await said(ben, 'hello ana');
  const hers = await said(ana, 'hello ben');
  const anaPhone = await chat.device('ana');
  await anaPhone.expectReply({ action: 'joinroom', roomId: dm.roomId });

  // Before the block his edit reaches her: the path the block closes is open.
  const before = (await ben.expectReply({ action: 'editmessage', seq: his.seq, message: 'hello ana!' })) as {
    seq: number;
  };
  await anaPhone.next((f) => f.type === 'edited' && f.targetSeq === his.seq);

  const blocked = await chat.ask(ana, { action: 'block', roomId: dm.roomId, seq: his.seq });
  expect(blocked).toMatchObject({ type: 'blocklist', people: [{ username: 'ben' }] });
  const mark = anaPhone.mark();

  const edit = await ben.ask({ action: 'editmessage', seq: his.seq, message: 'answer me' });
  expect(edit).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'editmessage' });
  expect(String(edit.message)).toMatch(/could not be delivered/);
  expect(String(edit.message)).not.toMatch(/block/i);
  const react = await ben.ask({ action: 'react', seq: hers.seq, reaction: '👍' });
  expect(react).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'react' });
  expect(String(react.message)).not.toMatch(/block/i);
  // Ana is told she blocked him when she reacts there herself.
  expect(await ana.ask({ action: 'react', seq: his.seq, reaction: '👍' })).toMatchObject({
    code: 'FORBIDDEN',
    message: expect.stringMatching(/unblock/),
  });
  // Taking his own words away is his to do.
  await ben.expectReply({ action: 'deletemessage', seq: his.seq });
  await anaPhone.next((f) => f.type === 'deleted' && f.targetSeq === his.seq);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(changesIn(anaPhone.since(mark), dm.roomId)).toEqual([]);
  // Nothing was stored either: the room's history after the block holds his delete only.
  const history = (await ana.expectReply({ action: 'history', afterSeq: before.seq, limit: 50 })) as {
    messages: Frame[];
  };
  expect(changesIn(history.messages, dm.roomId)).toEqual([]);

  // Unblocked, his edit of another message reaches her again.
  const { blockId } = (blocked.people as Frame[])[0] as { blockId: string };
  await chat.ask(ana, { action: 'unblock', blockId });
  const again = await said(ben, 'friends again?');
  await ben.expectReply({ action: 'editmessage', seq: again.seq, message: 'friends again!' });
  expect(
    await anaPhone.next((f) => f.type === 'edited' && f.targetSeq === again.seq && f.roomId === dm.roomId),
  ).toMatchObject({ text: 'friends again!' });
});
