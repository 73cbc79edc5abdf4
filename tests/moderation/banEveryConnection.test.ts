import { signedInCloud } from '../helpers/signedIn';

/**
 * A ban reaches every connection the person holds, however many (functions/moderation/owners.ts
 * personConnectionsMax: as many as ConnectionsPerSource lets one person hold): Dave, on 31 connections, 30 of them
 * following the room under another name (only the user index finds those), loses every one. The indexes show each
 * write at once here (no --gsi-lag-ms), so the test waits on no clock.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({});
const codeOf = (reply: { type?: unknown; code?: unknown }) =>
  reply.type === 'error' ? reply.code : reply.type;

it('moves out every connection the person holds, however many: past 25 of them, each under another name', async () => {
  const owner = await chat.device('erin');
  const created = await chat.ask(owner, { action: 'createroom' });
  const roomId = created.roomId as string;
  const key = created.inviteKey as string;
  const dave = await chat.deviceShowing('dave', 'dave');
  expect((await chat.ask(dave, { action: 'joinroom', roomId, key })).type).toBe('joined');
  // 30 more connections of Dave's (the default cap is 50 a person), following the room as "davey": only the user
  // index finds them, not the room index by the banned name.
  const others: Awaited<ReturnType<typeof chat.device>>[] = [];
  for (let i = 0; i < 30; i++) {
    const other = await chat.deviceShowing('dave', 'davey');
    expect((await chat.ask(other, { action: 'subscribe', rooms: [{ roomId, key }] })).type).toBe(
      'subscribed',
    );
    others.push(other);
  }

  const banned = await chat.ask(owner, { action: 'ban', username: 'dave' });
  expect(banned).toMatchObject({ type: 'banned', roomId, username: 'dave', removed: 31 });
  for (const device of [dave, ...others]) {
    await device.next((f) => f.type === 'removed' && f.roomId === roomId);
    expect(codeOf(await chat.ask(device, { action: 'who', roomId }))).toBe('NOT_SUBSCRIBED');
  }
});
