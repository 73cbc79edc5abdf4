import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Finding people (`findpeople`, functions/people/people.ts) on the local cloud with sign-in: a signed-in user
 * finds the co-members of any of its rooms by the start of their name, not only of the room it is in, and opens a
 * direct message with one by the id found while in another room; someone it shares no room with is neither found
 * nor reachable by id. The open chat's refusal is tests/people/findPeopleOpen.test.ts.
 */
jest.setTimeout(240_000);

const { device, ask } = signedInCloud({ FrameRateLimit: '1000' });

type Found = Frame & { people: { userId: string; username: string }[] };

it('finds a co-member of another room by prefix and opens a DM with them from a different room', async () => {
  const [ana, bob, bobbie, boris] = await Promise.all([
    device('Ana'),
    device('Bob'),
    device('bobbie'),
    device('Boris'),
  ]);
  // Room one: Ana, Bob and bobbie. Boris has a room of his own and shares none with Ana.
  const one = await ask(ana, { action: 'createroom' });
  for (const c of [bob, bobbie] as const)
    expect(await ask(c, { action: 'joinroom', roomId: one.roomId, key: one.inviteKey })).toMatchObject({
      type: 'joined',
    });
  expect(await ask(boris, { action: 'createroom' })).toMatchObject({ type: 'joined' });
  // Ana moves on to a room of her own: none of the others is in it.
  const two = await ask(ana, { action: 'createroom' });
  expect(two.roomId).not.toBe(one.roomId);

  const found = (await ask(ana, { action: 'findpeople', prefix: 'BO' })) as Found;
  expect(found).toMatchObject({ type: 'people', prefix: 'bo' });
  // Case-insensitive, sorted by name, each once; Boris (no shared room) and Ana herself are not listed.
  expect(found.people.map((p) => p.username)).toEqual(['Bob', 'bobbie']);
  for (const p of found.people) expect(p.userId).toMatch(/^user:/);
  expect(((await ask(ana, { action: 'findpeople', prefix: 'bob', limit: 1 })) as Found).people).toHaveLength(
    1,
  );
  expect(((await ask(ana, { action: 'findpeople', prefix: 'ana' })) as Found).people).toEqual([]);

  // A DM by the id found, from room two: Bob is not in Ana's current room, but they share room one.
  const bobId = found.people[0]?.userId;
  const dm = await ask(ana, { action: 'opendm', userId: bobId });
  expect(dm).toMatchObject({ type: 'joined', dm: { userId: bobId } });
  await bob.next((f) => f.type === 'dmopened', 90_000, "Bob's dmopened");

  // Boris is signed in and well known to himself, yet Ana shares no room with him: not found, and no DM by id.
  const borisId = ((await ask(boris, { action: 'seenby' })) as Frame & { members: { userId?: string }[] })
    .members[0]?.userId;
  expect(borisId).toMatch(/^user:/);
  expect(((await ask(ana, { action: 'findpeople', prefix: 'bor' })) as Found).people).toEqual([]);
  const refused = await ask(ana, { action: 'opendm', userId: borisId });
  expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'opendm' });
  expect(String(refused.message)).toMatch(/share no room/);
  // Nor the other way round: Boris finds nobody of Ana's and cannot open a DM with her id.
  expect(((await ask(boris, { action: 'findpeople', prefix: 'a' })) as Found).people).toEqual([]);
  expect(await ask(boris, { action: 'opendm', userId: (dm.dm as { userId: string }).userId })).toMatchObject({
    type: 'error',
  });
});

it('answers BAD_REQUEST for a prefix that is empty, too long or not part of a name, and for a bad limit', async () => {
  const cy = await device('Cy');
  for (const frame of [
    { prefix: '' },
    { prefix: '   ' },
    { prefix: 'x'.repeat(33) },
    { prefix: 'a#user:' },
    { prefix: 7 },
    {},
    { prefix: 'a', limit: 0 },
    { prefix: 'a', limit: 21 },
  ])
    expect(await ask(cy, { action: 'findpeople', ...frame })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
      action: 'findpeople',
    });
  expect(await ask(cy, { action: 'findpeople', prefix: 'x'.repeat(32) })).toMatchObject({
    type: 'people',
    people: [],
  });
});
