import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * `opendm` cannot mint rooms (docs/SECURITY.md): a new direct-message room counts against the opener's room budget
 * (RoomCreateLimit per hour, shared with createroom) and needs a real counterpart, one the opener shares a room
 * with; reopening a pair's room takes nothing from the budget.
 */
jest.setTimeout(240_000);

const { device, ask } = signedInCloud({ RoomCreateLimit: '3', FrameRateLimit: '1000' });

it('refuses a new DM with a user id it shares no room with, and counts new DMs against the room budget', async () => {
  const mallory = await device('mallory');
  // A well-formed id of a user who shares no room with mallory (nobody at all): no room, whatever the id.
  const nobody = await ask(mallory, { action: 'opendm', userId: `user:${'a'.repeat(43)}` });
  expect(nobody).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  expect(String(nobody.message)).toMatch(/share no room/);

  // Three real people: each DM is a new room, the third exhausts RoomCreateLimit=3.
  const peers = await Promise.all(['pat', 'quin', 'rae', 'sam'].map(device));
  const created = await ask(mallory, { action: 'createroom' });
  for (const p of peers) await ask(p, { action: 'joinroom', roomId: created.roomId, key: created.inviteKey });
  // createroom took one of the three; two DMs take the rest.
  const dms: Frame[] = [];
  // By the name the shared room shows (a DM moves its opener into the DM's room: back to the shared one each time).
  const dmWith = async (name: string) => {
    await ask(mallory, { action: 'joinroom', roomId: created.roomId, key: created.inviteKey });
    return ask(mallory, { action: 'opendm', username: name });
  };
  for (const name of ['pat', 'quin']) dms.push(await dmWith(name));
  expect(dms.map((d) => d.type)).toEqual(['joined', 'joined']);
  const over = await dmWith('rae');
  expect(over).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  expect(await ask(mallory, { action: 'createroom' })).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  // Reopening a pair's room creates nothing: it is let through with the budget spent.
  const patId = (dms[0] as Frame & { dm: { userId: string } }).dm.userId;
  expect(await ask(mallory, { action: 'opendm', userId: patId })).toMatchObject({
    type: 'joined',
    roomId: dms[0]?.roomId,
  });
});
