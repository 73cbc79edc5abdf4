import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Profiles (`setprofile`, functions/rooms/directory.ts) on the local cloud with sign-in: a member's display name and
 * status reach the other members of each room it belongs to live, beside the name it shows there, and find people
 * shows them; bad input and a connection without sign-in get a clear refusal.
 */
jest.setTimeout(120_000);

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
  ]) {
    const refused = await ask(cy, { action: 'setprofile', ...frame });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'setprofile' });
    expect(String(refused.message)).toMatch(/"displayName"|"status"|"avatar"|give at least one/);
  }
});
