import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Named rooms and the directory of public rooms (functions/directory/directory.ts) on the local cloud with sign-in: a
 * public room is found by the start of its name and joined by its code alone; a private room is never listed; two
 * public rooms never share a name (the directory entry's conditional put); an owner's rename reaches the members live
 * and moves the room in the directory; a room made without a name keeps working, shown by its code.
 */
jest.setTimeout(240_000);

// StrikeLimit 0: the bad-input test sends one refused frame after another on one connection.
const { device, ask } = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '0' });

type Listed = Frame & { rooms: { roomId: string; name: string; topic?: string }[]; next?: string };
const list = async (c: Parameters<typeof ask>[0], prefix: string, more: Record<string, unknown> = {}) =>
  (await ask(c, { action: 'listrooms', prefix, ...more })) as Listed;

it('finds the public room "general" by name and joins it without a code; a private room is never listed', async () => {
  const [alice, bob] = await Promise.all([device('alice'), device('bob')]);
  const general = await ask(alice, {
    action: 'createroom',
    name: 'general',
    topic: 'Anything goes',
    public: true,
  });
  expect(general).toMatchObject({ type: 'joined', name: 'general', topic: 'Anything goes', public: true });
  const secret = await ask(alice, { action: 'createroom', name: 'general secrets' });
  expect(secret).toMatchObject({ type: 'joined', name: 'general secrets' });
  expect(secret.public).toBeUndefined();

  // Any case and width of the start of its name finds it; the private room with the same start is not there.
  const found = await list(bob, 'GEN');
  expect(found).toMatchObject({ type: 'rooms', prefix: 'gen' });
  expect(found.rooms).toEqual([{ roomId: general.roomId, name: 'general', topic: 'Anything goes' }]);
  expect((await list(bob, '')).rooms.map((r) => r.roomId)).not.toContain(secret.roomId);
  expect((await list(bob, 'general s')).rooms).toEqual([]);

  // Joined by its code alone, no invite key: the join names it.
  const joined = await ask(bob, { action: 'joinroom', roomId: general.roomId });
  expect(joined).toMatchObject({ type: 'joined', roomId: general.roomId, name: 'general', public: true });
  // The private room still wants its invite key... by code alone it is what it always was: a guess that pays
  // off only until its owner rotates the key; after a rotation the code alone is refused as an unknown code.
  await ask(alice, { action: 'rotatekey', roomId: secret.roomId });
  expect(await ask(bob, { action: 'joinroom', roomId: secret.roomId })).toMatchObject({
    type: 'error',
    code: 'ROOM_NOT_FOUND',
  });
  // A public room's code alone gets in even after a rotation: it is listed for anyone.
  await ask(alice, { action: 'rotatekey', roomId: general.roomId });
  const carol = await device('carol');
  expect(await ask(carol, { action: 'joinroom', roomId: general.roomId })).toMatchObject({ type: 'joined' });
  // Bob's other tab comes back with the key he joined by, replaced since: a public room still lets him in.
  const again = await ask(await device('bob'), {
    action: 'subscribe',
    rooms: [{ roomId: general.roomId, key: joined.inviteKey }],
  });
  expect(again).toMatchObject({ type: 'subscribed', refused: [] });
  // Bob's "my rooms" names it.
  const mine = (await ask(bob, { action: 'myrooms' })) as Frame & {
    rooms: { roomId: string; name?: string }[];
  };
  expect(mine.rooms.find((r) => r.roomId === general.roomId)?.name).toBe('general');
});

it('keeps a public name to one room: a second public "General" is NAME_TAKEN, a private one is free', async () => {
  const [dana, eve] = await Promise.all([device('dana'), device('eve')]);
  const first = await ask(dana, { action: 'createroom', name: 'Book Club', public: true });
  expect(first).toMatchObject({ type: 'joined', name: 'Book Club' });
  const clash = await ask(eve, { action: 'createroom', name: '  book   CLUB ', public: true });
  expect(clash).toMatchObject({ type: 'error', code: 'NAME_TAKEN', action: 'createroom' });
  expect(String(clash.message)).toMatch(/Another public room is called "book CLUB"/);
  // Free for a private room; and making that one public, or renaming another public room to it, is refused too.
  const privateOne = await ask(eve, { action: 'createroom', name: 'book club' });
  expect(privateOne).toMatchObject({ type: 'joined', name: 'book club' });
  expect(await ask(eve, { action: 'setroom', roomId: privateOne.roomId, public: true })).toMatchObject({
    type: 'error',
    code: 'NAME_TAKEN',
  });
  const other = await ask(eve, { action: 'createroom', name: 'Chess', public: true });
  expect(await ask(eve, { action: 'setroom', roomId: other.roomId, name: 'BOOK CLUB' })).toMatchObject({
    type: 'error',
    code: 'NAME_TAKEN',
  });
  // Two claims at once: exactly one gets the name.
  const [a, b] = await Promise.all([
    ask(dana, { action: 'createroom', name: 'race', public: true }),
    ask(eve, { action: 'createroom', name: 'Race', public: true }),
  ]);
  expect([a.type, b.type].sort()).toEqual(['error', 'joined']);
  expect((await list(eve, 'race')).rooms).toHaveLength(1);
  // The directory lists each once, in name order.
  expect((await list(eve, 'b')).rooms.map((r) => r.name)).toEqual(['Book Club']);
});

it('tells every member of a rename live and moves the room in the directory; the old name is free again', async () => {
  const [fay, gus] = await Promise.all([device('fay'), device('gus')]);
  const room = await ask(fay, { action: 'createroom', name: 'lunch', public: true });
  await ask(gus, { action: 'joinroom', roomId: room.roomId });
  const renamed = await ask(fay, { action: 'setroom', name: 'Lunch crew', topic: 'Fridays at noon' });
  expect(renamed).toMatchObject({
    type: 'roomchanged',
    roomId: room.roomId,
    name: 'Lunch crew',
    public: true,
  });
  expect(
    await gus.next((f) => f.type === 'roomchanged' && f.roomId === room.roomId, 90_000, "gus's roomchanged"),
  ).toMatchObject({ name: 'Lunch crew', topic: 'Fridays at noon', public: true });
  expect((await list(gus, 'lunch c')).rooms).toEqual([
    { roomId: room.roomId, name: 'Lunch crew', topic: 'Fridays at noon' },
  ]);
  // Private now: never listed, and members are told.
  await ask(fay, { action: 'setroom', public: false });
  expect(
    await gus.next((f) => f.type === 'roomchanged' && f.public === false, 90_000, "gus's second roomchanged"),
  ).toMatchObject({ roomId: room.roomId, name: 'Lunch crew' });
  expect((await list(gus, 'lunch')).rooms).toEqual([]);
  // Only the owner changes it.
  expect(await ask(gus, { action: 'setroom', roomId: room.roomId, name: 'mine' })).toMatchObject({
    type: 'error',
    code: 'FORBIDDEN',
  });
  // The old public name is free for another room.
  expect(await ask(gus, { action: 'createroom', name: 'lunch', public: true })).toMatchObject({
    type: 'joined',
  });
});

it('keeps a room made without a name working, shown by its code, until its owner names it', async () => {
  const [hal, ivy] = await Promise.all([device('hal'), device('ivy')]);
  const room = await ask(hal, { action: 'createroom' });
  expect(room.name).toBeUndefined();
  const joined = await ask(ivy, { action: 'joinroom', roomId: room.roomId, key: room.inviteKey });
  expect(joined.name).toBeUndefined();
  await ask(hal, { action: 'setroom', name: 'Design' });
  expect(await ivy.next((f) => f.type === 'roomchanged', 90_000, "ivy's roomchanged")).toMatchObject({
    name: 'Design',
  });
  expect((await list(ivy, 'design')).rooms).toEqual([]);
});

it('answers bad names, topics, visibility and pages with a clear BAD_REQUEST, writing nothing', async () => {
  const jo = await device('jo');
  for (const frame of [
    { name: '' },
    { name: '   ' },
    { name: 'x'.repeat(41) },
    { name: 'tab\there\u0000' },
    { name: 7 },
    { topic: 'y'.repeat(201) },
    { public: 'yes' },
    { public: true },
  ]) {
    const refused = await ask(jo, { action: 'createroom', ...frame });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'createroom' });
    expect(String(refused.message)).toMatch(/"name"|"topic"|"public"|needs a "name"/);
  }
  expect(await ask(jo, { action: 'setroom', name: 'x' })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  await ask(jo, { action: 'createroom' });
  expect(await ask(jo, { action: 'setroom' })).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  expect(await ask(jo, { action: 'setroom', public: true })).toMatchObject({
    type: 'error',
    code: 'BAD_REQUEST',
  });
  for (const frame of [{ prefix: 5 }, { limit: 0 }, { limit: 21 }, { after: '' }, { prefix: 'z'.repeat(41) }])
    expect(await ask(jo, { action: 'listrooms', ...frame })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
      action: 'listrooms',
    });
});

it('pages the directory in name order', async () => {
  const kim = await device('kim');
  for (const name of ['page c', 'page a', 'page b'])
    expect(await ask(kim, { action: 'createroom', name, public: true })).toMatchObject({ type: 'joined' });
  const first = await list(kim, 'page', { limit: 2 });
  expect(first.rooms.map((r) => r.name)).toEqual(['page a', 'page b']);
  expect(first.next).toBeDefined();
  const second = await list(kim, 'page', { limit: 2, after: first.next });
  expect(second.rooms.map((r) => r.name)).toEqual(['page c']);
});

it('keeps look-alike public names to one room: each of "Paris" as another script, width or case spells it is NAME_TAKEN', async () => {
  const [fay, gus] = await Promise.all([device('fay'), device('gus')]);
  const paris = await ask(fay, { action: 'createroom', name: 'Paris', public: true });
  expect(paris).toMatchObject({ type: 'joined', name: 'Paris' });
  const lookAlikes = [
    '\u03A1aris', // Greek capital Rho
    '\u0420aris', // Cyrillic capital Er
    'P\u0430ris', // Cyrillic small a
    'P\u03B1ris', // Greek small alpha
    'Par\u0131s', // dotless i
    'Par\u0456s', // Cyrillic small i
    'PARIS',
    'ＰＡＲＩＳ', // fullwidth
    'Pari\u0455', // Cyrillic small dze
    'ParIs',
    'Par1s', // digit one: "1", "I" and "l" share a prototype
  ];
  for (const name of lookAlikes)
    expect([name, await ask(gus, { action: 'createroom', name, public: true })]).toEqual([
      name,
      expect.objectContaining({ type: 'error', code: 'NAME_TAKEN' }),
    ]);
  // A rename to a look-alike is refused too; a name that reads differently ("Pâris", "Parish") is free.
  const other = await ask(gus, { action: 'createroom', name: 'Lyon', public: true });
  expect(await ask(gus, { action: 'setroom', roomId: other.roomId, name: '\u03A1ARIS' })).toMatchObject({
    type: 'error',
    code: 'NAME_TAKEN',
  });
  for (const name of ['P\u00E2ris', 'Parish'])
    expect(await ask(gus, { action: 'createroom', name, public: true })).toMatchObject({
      type: 'joined',
      name,
    });
  // A look-alike prefix finds the room it would be refused beside.
  const found = await list(gus, '\u0420a');
  expect(found.rooms.map((r) => r.name)).toEqual(expect.arrayContaining(['Paris', 'Parish']));
});
