import type { Frame } from '../helpers/chatClient';
import { roomWith, said, signedInCloud } from '../helpers/signedIn';

/**
 * Blocking through the local cloud with sign-in: Ana blocks Ben by one of his messages; his direct messages never
 * reach her (his `opendm` and his sends into their existing room are refused with a sentence that does not say
 * "blocked"), the block list survives on her other device, her block list gives the keys to hide in every room they
 * share, and unblocking lets him write again.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '1000' });

it("a blocked person's direct messages never reach the blocker, and the block holds on every device", async () => {
  const ana = await chat.device('ana');
  const ben = await chat.device('ben');
  const roomId = await roomWith(ana, ben);
  const first = await said(ben, 'hello ana');
  const authorKey = (await ana.next((f) => f.type === 'message' && f.seq === first.seq)).authorKey;

  // Their direct-message room exists before the block: Ben has written there once.
  const dm = (await ben.expectReply({ action: 'opendm', username: 'ana' })) as { roomId: string; dm: Frame };
  await ana.next((f) => f.type === 'dmopened');
  const anaPhone = await chat.device('ana');
  await anaPhone.expectReply({ action: 'joinroom', roomId: dm.roomId });

  await ana.expectReply({ action: 'joinroom', roomId });
  const blocked = await chat.ask(ana, { action: 'block', roomId, seq: first.seq });
  expect(blocked).toMatchObject({
    type: 'blocklist',
    roomId,
    people: [{ blockId: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/), username: 'ben' }],
    hiddenKeys: [authorKey],
  });

  // A send into their room is refused, and says nothing of a block; nothing reaches Ana's phone there.
  const mark = anaPhone.mark();
  await ben.expectReply({ action: 'joinroom', roomId: dm.roomId });
  const refused = await ben.ask({ action: 'sendmessage', message: 'are you there?' });
  expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'sendmessage' });
  expect(String(refused.message)).not.toMatch(/block/i);
  // opendm is refused alike.
  const reopened = await ben.ask({ action: 'opendm', username: 'ana' });
  expect(reopened).toMatchObject({ type: 'error', action: 'opendm' });
  expect(String(reopened.message)).not.toMatch(/block/i);
  // Ana is told she blocked him when she writes there herself.
  await ana.expectReply({ action: 'joinroom', roomId: dm.roomId });
  expect(await ana.ask({ action: 'sendmessage', message: 'bye' })).toMatchObject({
    code: 'FORBIDDEN',
    message: expect.stringMatching(/unblock/),
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(anaPhone.since(mark).filter((f) => f.type === 'message')).toEqual([]);

  // The list is the user's, kept server-side: another device reads it, with the keys to hide in the shared room.
  const laptop = await chat.device('ana');
  await laptop.expectReply({ action: 'joinroom', roomId });
  expect(await chat.ask(laptop, { action: 'blocklist' })).toMatchObject({
    people: [{ username: 'ben' }],
    roomId,
    hiddenKeys: [authorKey],
  });

  // Unblocked, Ben writes to her again.
  const { blockId } = (blocked.people as Frame[])[0] as { blockId: string };
  expect(await chat.ask(laptop, { action: 'unblock', blockId })).toMatchObject({ people: [] });
  const again = await said(ben, 'friends again?');
  expect(await anaPhone.next((f) => f.type === 'message' && f.seq === again.seq)).toMatchObject({
    text: 'friends again?',
  });
});

it('refuses blocking yourself, a message that is not there, and bad input, with clear errors', async () => {
  const cy = await chat.device('cy');
  const roomId = await roomWith(cy);
  const own = await said(cy, 'mine');
  expect(await chat.ask(cy, { action: 'block', roomId, seq: own.seq })).toMatchObject({
    code: 'BAD_REQUEST',
    message: expect.stringMatching(/yourself/),
  });
  expect(await chat.ask(cy, { action: 'block', seq: 999 })).toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
  expect(await chat.ask(cy, { action: 'block', seq: 'one' })).toMatchObject({
    code: 'BAD_REQUEST',
    message: expect.stringMatching(/"seq"/),
  });
  expect(await chat.ask(cy, { action: 'unblock', blockId: 'nope' })).toMatchObject({
    code: 'BAD_REQUEST',
    message: expect.stringMatching(/"blockId"/),
  });
});
