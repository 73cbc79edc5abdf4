import type { ChatClient, Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * A room's own filtered words (`roomwords`, functions/moderation/moderation.ts; checked after a send's or an edit's
 * take, messages/appending.ts), through the local cloud with sign-in: only the owner sets them; a message or an edit
 * holding one, in any spelling the filter folds, is refused FILTERED and nothing of it reaches the room, while the
 * room's next message does; another room is not filtered by them; [] clears them.
 */
jest.setTimeout(240_000);

const { device, ask, roomOf } = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '0' });

const send = (client: ChatClient, message: string) => ask(client, { action: 'sendmessage', message });

it("refuses a member's message or edit holding one of the room's words; the room goes on without it", async () => {
  const { roomId, devices } = await roomOf('ora', 'pia');
  const [ora, pia] = devices;
  expect(await ask(ora, { action: 'roomwords', words: ['spoiler', ' boss fight '] })).toEqual(
    expect.objectContaining({ type: 'roomwords', roomId, words: ['spoiler', 'boss fight'] }),
  );

  // Cyrillic ѕ and о; fullwidth; a Markdown split.
  for (const text of ['no \u0455p\u043Eiler please', 'the ＢＯＳＳ  Ｆｉｇｈｔ!', 'sp**oil**er'])
    expect([text, await send(pia, text)]).toEqual([
      text,
      expect.objectContaining({
        type: 'error',
        code: 'FILTERED',
        message: expect.stringContaining("this room doesn't allow"),
      }),
    ]);
  const fine = (await send(pia, 'spoilers are fine, bossfight too')) as Frame & { seq: number };
  expect(fine).toMatchObject({ type: 'ack' });
  // The owner sees the next message, never a refused one.
  const seen = await ora.next((f) => f.type === 'message');
  expect(seen).toMatchObject({ seq: fine.seq, text: 'spoilers are fine, bossfight too' });

  expect(await ask(pia, { action: 'editmessage', seq: fine.seq, message: 'a SPOILER' })).toMatchObject({
    type: 'error',
    code: 'FILTERED',
  });
  const history = (await ask(ora, { action: 'history', roomId })) as Frame & { messages: { text: string }[] };
  expect(history.messages.map((m) => m.text)).toEqual(['spoilers are fine, bossfight too']);

  // Another room is not filtered by them; cleared, they filter nothing here either.
  const elsewhere = await device('ora');
  expect(await ask(elsewhere, { action: 'createroom' })).toMatchObject({ type: 'joined' });
  expect(await send(elsewhere, 'a spoiler')).toMatchObject({ type: 'ack' });
  expect(await ask(pia, { action: 'roomwords', words: [] })).toMatchObject({
    type: 'error',
    code: 'FORBIDDEN',
  });
  expect(await ask(ora, { action: 'roomwords', words: [] })).toMatchObject({ type: 'roomwords', words: [] });
  expect(await send(pia, 'spoiler')).toMatchObject({ type: 'ack' });
});

it("refuses a member's words and a bad list with a clear error, changing nothing", async () => {
  const { devices } = await roomOf('quin', 'rae');
  const [quin, rae] = devices;
  expect(await ask(rae, { action: 'roomwords', words: ['spoiler'] })).toMatchObject({
    type: 'error',
    code: 'FORBIDDEN',
  });
  for (const words of [
    'spoiler',
    ['a,b'],
    [''],
    Array.from({ length: 51 }, (_, i) => `w${i}`),
    ['x'.repeat(41)],
  ])
    expect(await ask(quin, { action: 'roomwords', words })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
      message: expect.stringContaining('"words"'),
    });
  expect(await send(rae, 'spoiler')).toMatchObject({ type: 'ack' });
});
