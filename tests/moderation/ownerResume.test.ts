import { ChatClient, type Frame } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Without sign-in (AuthMode=none) the owner is the creator's resume-token identity, as a moderator is: after the
 * creator reconnects with the same resume token, it is still the owner (its powers and its role shown), and a
 * moderator can neither mute nor ban it; a connection without that token has no owner's power.
 */
jest.setTimeout(240_000);

const stage = roomCloud({ settings: { JoinGuessLimit: '1000' } });
const opened: ChatClient[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
});

/** 22 base64url characters: a resume token as the client library makes one. */
const tokenOf = (seed: string) => `${seed}${'A'.repeat(22 - seed.length)}`;

async function connectAs(name: string, resumeToken: string): Promise<ChatClient> {
  const client = await ChatClient.connect(stage.cloud.wsUrl, name, undefined, { resumeToken });
  opened.push(client);
  return client;
}

it("keeps the room its creator's across a reconnect: a moderator cannot mute or ban the returning owner", async () => {
  const ownerToken = tokenOf('owner');
  const first = await connectAs('olga', ownerToken);
  const mod = await connectAs('mona', tokenOf('mod'));
  const bob = await connectAs('bob', tokenOf('bob'));
  const created = await first.expectReply({ action: 'createroom' });
  const roomId = created.roomId as string;
  const key = created.inviteKey as string;
  for (const member of [mod, bob]) await member.expectReply({ action: 'joinroom', roomId, key });
  await first.expectReply({ action: 'setrole', username: 'mona', role: 'moderator' });

  // The creator's connection ends; it comes back with the same resume token and rejoins by the room's link.
  await first.close();
  const back = await connectAs('olga', ownerToken);
  const rejoined = await back.expectReply({ action: 'joinroom', roomId, key });
  expect(rejoined).toMatchObject({ type: 'joined', roomId, role: 'owner' });
  const shown = (await mod.expectReply({ action: 'who' })).members as string[];
  const ownerName = shown.find((name) => name.startsWith('olga')) as string;
  expect(ownerName).toBeDefined();

  // The moderator has no power over the returning owner.
  const muted: Frame = await mod.ask({ action: 'mute', username: ownerName });
  expect(muted).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  const banned: Frame = await mod.ask({ action: 'ban', username: ownerName });
  expect(banned).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  expect((await back.expectReply({ action: 'sendmessage', roomId, message: 'still mine' })).type).toBe('ack');

  // The returning owner keeps the owner's powers; another member's connection has none of them.
  expect((await back.expectReply({ action: 'setrole', username: 'mona', role: 'member' })).type).toBe(
    'rolechanged',
  );
  expect((await back.expectReply({ action: 'rotatekey' })).type).toBe('keyrotated');
  expect((await back.expectReply({ action: 'setroom', topic: 'ours' })).type).toBe('roomchanged');
  expect(await bob.ask({ action: 'rotatekey' })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
});
