import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Profiles (`setprofile`, functions/profiles/profiles.ts) on the local cloud with sign-in: a member's display name and
 * status reach the other members of each room it belongs to live, beside the name it shows there, and find people
 * shows them; bad input and a connection without sign-in get a clear refusal.
 */
jest.setTimeout(240_000);

const { device, ask } = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '0' });

it("tells a room member of a profile's display name and status live, and find people shows them", async () => {
  const [alice, bob] = await Promise.all([device('alice'), device('bob')]);
  const one = await ask(alice, { action: 'createroom', name: 'one' });
  const two = await ask(alice, { action: 'createroom', name: 'two' });
  await ask(bob, { action: 'joinroom', roomId: one.roomId, key: one.inviteKey });
  await ask(bob, { action: 'subscribe', rooms: [{ roomId: two.roomId, key: two.inviteKey }] });

  const reply = await ask(alice, {
    action: 'setprofile',
    displayName: 'Alice Liddell',
    status: 'Down the hole',
  });
  expect(reply).toMatchObject({ type: 'profile', displayName: 'Alice Liddell', status: 'Down the hole' });
  expect(String(reply.userId)).toMatch(/^user:/);
  // Each room alice is in tells bob, under the name she shows there.
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const frame = await bob.next(
      (f) => f.type === 'profile' && !seen.has(String(f.roomId)),
      20_000,
      "bob's profile frame",
    );
    expect(frame).toMatchObject({ username: 'alice', displayName: 'Alice Liddell', status: 'Down the hole' });
    seen.add(String(frame.roomId));
  }
  expect([...seen].sort()).toEqual([one.roomId, two.roomId].sort());

  // Find people shows it; a cleared status is gone, the display name kept.
  await ask(alice, { action: 'setprofile', status: '' });
  const found = (await ask(bob, { action: 'findpeople', prefix: 'ali' })) as Frame & {
    people: { username: string; displayName?: string; status?: string }[];
  };
  expect(found.people).toEqual([
    expect.objectContaining({ username: 'alice', displayName: 'Alice Liddell' }),
  ]);
  expect(found.people[0]?.status).toBeUndefined();
});

it('refuses bad profiles with a clear BAD_REQUEST', async () => {
  const cy = await device('cy');
  for (const frame of [
    {},
    { displayName: '' },
    { displayName: 'x'.repeat(33) },
    { displayName: 3 },
    { status: 's'.repeat(81) },
    { avatar: 'http://example.com/a.png' },
    { avatar: { roomId: 'ABCDEFGH', key: 'ZZZZZZZZ/elsewhere.png' } },
    { avatar: { key: 3 } },
  ]) {
    const refused = await ask(cy, { action: 'setprofile', ...frame });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'setprofile' });
    expect(String(refused.message)).toMatch(/"displayName"|"status"|"avatar"|give at least one/);
  }
});

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 7)]);

/** An avatar upload of the client's own (`attach` with purpose "avatar"), its POST made. */
async function upload(client: Awaited<ReturnType<typeof device>>) {
  const granted = await ask(client, {
    action: 'attach',
    purpose: 'avatar',
    contentType: 'image/png',
    size: PNG.length,
  });
  expect(granted.roomId).toBeUndefined();
  expect(granted).toMatchObject({ type: 'upload' });
  const form = new FormData();
  for (const [name, value] of Object.entries(granted.fields as Record<string, string>))
    form.append(name, value);
  form.append('file', new Blob([PNG]));
  const res = await fetch(granted.url as string, { method: 'POST', body: form });
  expect(res.status).toBeLessThan(300);
  return String(granted.key);
}

it("gives a joiner and a history page the profiles of their messages' authors, avatar readable by a signed GET", async () => {
  const [dana, eve, finn] = await Promise.all([device('dana'), device('eve'), device('finn')]);
  const room = await ask(dana, { action: 'createroom', name: 'gallery' });
  const key = await upload(dana);
  // Eve's upload is not Dana's to show (tests/rooms/avatars.test.ts tries the rest).
  const foreign = await upload(eve);
  const refused = await ask(dana, { action: 'setprofile', avatar: { key: foreign } });
  expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'setprofile' });
  expect(String(refused.message)).toMatch(/not an upload of yours/);

  const set = await ask(dana, {
    action: 'setprofile',
    displayName: 'Dana Scully',
    status: 'Trust no one',
    avatar: { key },
  });
  expect(set).toMatchObject({ type: 'profile', avatar: { key: expect.stringMatching(/^avatars\//) } });
  expect(String((set.avatar as { versionId?: string }).versionId)).not.toBe('undefined');
  const sent = await ask(dana, {
    action: 'sendmessage',
    roomId: room.roomId,
    message: 'hello from dana',
    clientMsgId: 'd1',
  });
  expect(sent).not.toMatchObject({ type: 'error' });

  // finn joins later: the joined backlog carries dana's profile, by the name her messages show.
  const joined = await ask(finn, { action: 'joinroom', roomId: room.roomId, key: room.inviteKey });
  const profiles = joined.profiles as { username: string; displayName?: string; avatar?: { url?: string } }[];
  expect(profiles).toEqual([
    expect.objectContaining({ username: 'dana', displayName: 'Dana Scully', status: 'Trust no one' }),
  ]);
  // The avatar's GET serves the uploaded image to finn, who may not `getattachment` in dana's other rooms.
  const image = await fetch(String(profiles[0]?.avatar?.url));
  expect(image.status).toBe(200);
  expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);

  // A history page carries it too; removing the avatar keeps the name.
  await ask(dana, { action: 'setprofile', avatar: null });
  const page = await ask(finn, { action: 'history', roomId: room.roomId });
  expect(page.profiles).toEqual([expect.objectContaining({ username: 'dana', displayName: 'Dana Scully' })]);
  expect((page.profiles as { avatar?: unknown }[])[0]?.avatar).toBeUndefined();
});
