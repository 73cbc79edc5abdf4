import {
  browserStage,
  hasText,
  roomOfTwo,
  shownRoom,
  signedInAtIssuer,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * The page moves between rooms in the order they were asked for: a room clicked in "Your rooms" while the page is
 * still opening the room of its address (after a reload) is the room it ends in, on screen and on the server. Two
 * moves at once used to race: the page showed the room whose `joined` came last, and the server kept the room whose
 * move committed last.
 */
jest.setTimeout(120_000);

const stage = browserStage({ AuthMode: 'oidc' });

const parsed = (message: string | Buffer): { type?: string; roomId?: string } | undefined => {
  try {
    return JSON.parse(String(message));
  } catch {
    return undefined;
  }
};

it('a room clicked while the page still opens the room of its address is the one shown, and the one it sends to', async () => {
  const alice = await signedInAtIssuer(stage, 'alice');
  const bob = await signedInAtIssuer(stage, 'bob');
  const roomA = await roomOfTwo(alice, bob);
  const roomB = await roomOfTwo(alice, bob);
  expect(await shownRoom(alice)).toBe(roomB);

  // After the reload the page opens B, the room in its address; B's `joined` is held 2 s on its way to the page.
  let heldAt = 0;
  await alice.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      const frame = parsed(message);
      if (heldAt === 0 && frame?.type === 'joined' && frame.roomId === roomB) {
        heldAt = Date.now();
        setTimeout(() => ws.send(message), 2000);
      } else ws.send(message);
    });
  });
  await alice.reload();
  await alice.locator(`[data-testid="my-room"][data-room-id="${roomA}"] button`).click();
  // Past the moment B's answer reaches the page.
  for (let waited = 0; heldAt === 0 && waited < UI_TIMEOUT_MS; waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(heldAt).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, heldAt + 2500 - Date.now())));
  await alice.locator(`[data-testid="room-code"][data-room-id="${roomA}"]`).waitFor();
  expect(await shownRoom(alice)).toBe(roomA);

  // The server agrees: what she sends goes to A, where Bob's unread badge rises, not to B, which Bob shows.
  await alice.getByTestId('composer-input').fill('in A, as clicked');
  await alice.getByTestId('composer-input').press('Enter');
  await hasText(
    bob.locator(`[data-testid="my-room"][data-room-id="${roomA}"] [data-testid="unread-badge"]`),
    '1',
    UI_TIMEOUT_MS,
  );
  expect(await bob.getByTestId('message-list').textContent()).not.toContain('in A, as clicked');
});
