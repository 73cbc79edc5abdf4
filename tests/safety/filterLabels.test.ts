import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * The word filter on every text a member shows others besides messages (functions/safety/labels.ts), through the
 * local cloud with sign-in: a room's name and topic, a profile's display name and status, a report's reason and a
 * file's name holding a listed word, in any folded spelling, are refused FILTERED naming the field, even with
 * FilterMode=mask, and nothing is shown: the directory does not list the name, the member keeps its profile.
 */
jest.setTimeout(240_000);

// StrikeLimit 0: refused frames follow one another on one connection.
const { device, ask, roomOf } = signedInCloud({
  FilterWords: 'darn,heck',
  FilterMode: 'mask',
  FrameRateLimit: '1000',
  StrikeLimit: '0',
});

const refusedFor = (field: string) => ({
  type: 'error',
  code: 'FILTERED',
  message: expect.stringContaining(`The ${field} holds a word this chat doesn't allow`),
});

it("refuses a room's name and topic holding a listed word, at creation and rename; the directory never lists it", async () => {
  const ann = await device('ann');
  // Cyrillic а, and fullwidth letters.
  expect(await ask(ann, { action: 'createroom', name: 'd\u0430rn club', public: true })).toMatchObject(
    refusedFor("room's name"),
  );
  expect(await ask(ann, { action: 'createroom', name: 'Chess', topic: 'what the ｈｅｃｋ' })).toMatchObject(
    refusedFor("room's topic"),
  );
  const chess = await ask(ann, { action: 'createroom', name: 'Chess club', public: true });
  expect(chess).toMatchObject({ type: 'joined', name: 'Chess club' });
  expect(await ask(ann, { action: 'setroom', roomId: chess.roomId, name: 'ＤＡＲＮ chess' })).toMatchObject(
    refusedFor("room's name"),
  );
  expect(
    await ask(ann, { action: 'setroom', roomId: chess.roomId, topic: 'no d**ar**n moves' }),
  ).toMatchObject(refusedFor("room's topic"));
  const listed = (await ask(ann, { action: 'listrooms', prefix: '' })) as Frame & {
    rooms: { name: string }[];
  };
  expect(listed.rooms.map((r) => r.name)).toEqual(['Chess club']);
});

it('refuses a display name or status holding a listed word; the profile stays as it was', async () => {
  const bea = await device('bea');
  expect(await ask(bea, { action: 'setprofile', displayName: 'Bea', status: 'here' })).toMatchObject({
    type: 'profile',
  });
  expect(await ask(bea, { action: 'setprofile', displayName: '𝐝𝐚𝐫𝐧 bea' })).toMatchObject(
    refusedFor('display name'),
  );
  expect(await ask(bea, { action: 'setprofile', status: 'DARN busy' })).toMatchObject(refusedFor('status'));
  const shown = await ask(bea, { action: 'setprofile', status: 'still here' });
  expect(shown).toMatchObject({ type: 'profile', displayName: 'Bea', status: 'still here' });
});

it("refuses a report's reason and a file's name holding a listed word", async () => {
  const { roomId, devices } = await roomOf('cal', 'dov');
  const [cal, dov] = devices;
  const said = (await cal.expectReply({ action: 'sendmessage', message: 'hello' })) as Frame & {
    seq: number;
  };
  expect(
    await ask(dov, { action: 'report', roomId, seq: said.seq, reason: 'he is a h\u0435ck of a spammer' }),
  ).toMatchObject(refusedFor('reason'));
  expect(await ask(dov, { action: 'report', roomId, seq: said.seq, reason: 'spam' })).toMatchObject({
    type: 'reported',
  });
  expect(
    await ask(cal, { action: 'attach', roomId, contentType: 'application/pdf', size: 100, name: 'darn.pdf' }),
  ).toMatchObject(refusedFor('file name'));
  expect(
    await ask(cal, {
      action: 'attach',
      roomId,
      contentType: 'application/pdf',
      size: 100,
      name: 'notes.pdf',
    }),
  ).toMatchObject({ type: 'upload' });
});
