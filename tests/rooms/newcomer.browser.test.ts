import type { DevIssuer } from '../../tools/local/oidc';
import {
  browserStage,
  createRoom,
  hasText,
  online,
  openedDirectRoom,
  signedInAtIssuer,
  signedInRoom,
  signInAtIssuer,
} from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * What a newcomer with a few browser sessions meets, signed in at the local cloud's development issuer
 * (AuthMode=oidc): an invite link opened signed out still leads into its room once signed in; a direct message is
 * named after the other person in its header, the tab's title and "Your rooms" after a reload (the page's memory is
 * gone then: the name comes from the server); a room left leaves "Your rooms" at once; at 1280×800, in a room of
 * five, "Your rooms" is in view without scrolling the sidebar.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

it('carol opens an invite link signed out, signs in, and lands in the room of the link', async () => {
  const alice = await signedInAtIssuer(stage, 'alice');
  const code = await createRoom(alice);
  // The invite link, as "Copy invite link" gives it (the page's address): the room and its key in the fragment.
  const link = alice.url();
  expect(link).toMatch(new RegExp(`#room=${code}&key=[A-Za-z0-9_-]{16}$`));

  // Carol, in a browser that has never signed in, opens it: off to the issuer, and back.
  const carol = await stage.newPage({ width: 1280, height: 800 });
  await signInAtIssuer(stage, carol, 'carol', link);
  await carol.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  expect(new URL(carol.url()).hash).toContain(`room=${code}`);
  // In it for real: Alice sees her join.
  await alice.locator(`[data-testid="member-item"][data-username="carol"]`).waitFor();
});

it('names a direct message after the other person in its header, title and "Your rooms" after a reload', async () => {
  const { owner: ana, code: shared } = await signedInRoom(stage, ['ana', 'benedict']);
  // Ana moves on to a room of her own and opens the conversation from "Find people" (by Ben's id, not his name).
  const own = await createRoom(ana);
  await ana.getByTestId('find-people-input').fill('bene');
  const result = ana.getByTestId('find-people-result');
  await result.first().waitFor();
  await result.first().locator('button').click();
  const dm = await openedDirectRoom(ana);
  // A room of its own, neither the room they share nor the one she is in.
  expect([shared, own]).not.toContain(dm);

  // Reloaded twice (the second with the name long known to the server): everything names Benedict.
  for (let i = 0; i < 2; i++) {
    await ana.reload();
    await online(ana);
    await ana.locator(`[data-testid="room-code"][data-room-id="${dm}"]`).waitFor();
    await hasText(ana.getByTestId('room-code'), '✉ benedict');
    await hasText(ana.getByTestId('room-title'), 'benedict');
    await hasText(ana.locator(`[data-testid="my-room"][data-room-id="${dm}"] button`), '✉ benedict');
    await ana.waitForFunction(() =>
      (globalThis as unknown as { document: { title: string } }).document.title.includes('benedict'),
    );
    expect(await ana.title()).not.toContain(dm);
  }
});

it('a room left leaves "Your rooms" at once, without a reload', async () => {
  const { owner: dana, joiner: eli, code } = await signedInRoom(stage, ['dana', 'eli']);
  const row = eli.locator(`[data-testid="my-room"][data-room-id="${code}"]`);
  await row.waitFor();
  // Set on the page as it is now: a reload would lose it.
  await eli.evaluate(() => {
    (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
  });
  await eli.getByTestId('leave-button').click();
  await eli.locator('[data-testid="room-code"][data-room-id="lobby"]').waitFor({ state: 'attached' });
  await row.waitFor({ state: 'detached' });
  expect(await eli.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
    true,
  );
  // Dana, still in it, keeps it listed.
  await dana.locator(`[data-testid="my-room"][data-room-id="${code}"]`).waitFor();
});

it('keeps "Your rooms" in view at 1280×800 in a room of five, without scrolling the sidebar', async () => {
  const { owner: fay, code } = await signedInRoom(stage, ['fay', 'gus']);
  // Three more people in the room, each a connection with a token from the development issuer.
  const issuer = stage.cloud.devIssuer as DevIssuer;
  const now = Math.floor(Date.now() / 1000);
  const others: ChatClient[] = [];
  try {
    for (const name of ['hal', 'ivy', 'jon']) {
      const token = await issuer.sign({
        iss: issuer.issuer,
        aud: issuer.clientId,
        sub: `sub-${name}`,
        preferred_username: name,
        iat: now,
        exp: now + 600,
      });
      const client = await ChatClient.connect(`${stage.cloud.wsUrl}?token=${encodeURIComponent(token)}`);
      others.push(client);
      await client.expectReply({ action: 'joinroom', roomId: code });
    }
    await fay.locator('[data-testid="member-item"][data-username="jon"]').waitFor({ state: 'attached' });
    const row = fay.locator(`[data-testid="my-room"][data-room-id="${code}"]`);
    await row.waitFor();
    const box = await row.boundingBox();
    expect(box && box.y + box.height).toBeLessThanOrEqual(800);
    expect(
      await fay.locator('.sidebar').evaluate((el) => (el as unknown as { scrollTop: number }).scrollTop),
    ).toBe(0);
  } finally {
    await Promise.all(others.map((c) => c.close()));
  }
});
