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
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

/** Waits until `done` holds, looking every 50 ms, for UI_TIMEOUT_MS at most. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 50) {
    if (waited > UI_TIMEOUT_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const parsed = (
  message: string | Buffer,
): { type?: string; action?: string; roomId?: string } | undefined => {
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

  // After the reload the page opens B, the room in its address. B's `joined` is held on its way to the page until A
  // is clicked, and until A's own `joined` has passed if the page asked for A at once: the answers reach the page in
  // the order that made two moves race (B's last), however fast or slow the machine is.
  let clicked = false;
  let askedA = false;
  let joinedA = false;
  let holdB: (() => void) | undefined;
  let releaseB = false;
  await alice.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const frame = parsed(message);
      if (clicked && frame?.action === 'joinroom' && frame.roomId === roomA) askedA = true;
      server.send(message);
    });
    server.onMessage((message) => {
      const frame = parsed(message);
      if (!holdB && frame?.type === 'joined' && frame.roomId === roomB) {
        holdB = () => ws.send(message);
        if (releaseB) holdB();
        return;
      }
      ws.send(message);
      if (frame?.type === 'joined' && frame.roomId === roomA) joinedA = true;
    });
  });
  await alice.reload();
  // B's move is under way (its answer is held) when A is clicked.
  await until('the page to ask for B', () => holdB !== undefined);
  clicked = true;
  await alice.locator(`[data-testid="my-room"][data-room-id="${roomA}"] button`).click();
  // Once the page has done what the click asked at once (a round trip to it), B's answer goes: now if the page waits
  // for it before asking for A, else after A's answer.
  await alice.evaluate(() => 0);
  if (askedA) await until("A's answer to pass", () => joinedA);
  releaseB = true;
  holdB?.();
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
